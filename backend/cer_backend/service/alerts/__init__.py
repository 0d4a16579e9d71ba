"""Alerts the referent acts on (issue #15): rules, lifecycle, delivery, schedule.

- ``config``: thresholds and what the community file says (location, roles, recipients);
- ``data``: the snapshot the rules look at; ``rules``: one function per rule;
- ``store``: open once per cause, acknowledge, resolve, history;
- ``mail`` and ``webhook``: delivery; ``scheduler``: the evaluation every 15 minutes.
"""
