"""The texts of the alerts, Italian first (the community's ``settings.language``)."""

from __future__ import annotations

from typing import Any, Final

#: one sentence per alert kind and language; fields come from the rule's details
MESSAGES: Final[dict[str, dict[str, str]]] = {
    "site_silent": {
        "it": "{where}: nessun dato da Home Assistant da {silent_hours} ore "
        "(ultimo alle {last_seen}).",
        "en": "{where}: no data from Home Assistant for {silent_hours} hours "
        "(last at {last_seen}).",
    },
    "site_silent_devices": {
        "it": "{where}: Home Assistant segnala dispositivi non disponibili dalle {since}: "
        "{devices}.",
        "en": "{where}: Home Assistant reports devices unavailable since {since}: {devices}.",
    },
    "data_incomplete": {
        "it": "{where}: mancano {missing_hours} ore su {expected_hours} dei dati del "
        "distributore di {month}.",
        "en": "{where}: {missing_hours} of {expected_hours} hours of the distributor's data "
        "for {month} are missing.",
    },
    "production_low": {
        "it": "Impianto {where}: il {day} ha prodotto meno del {share_pct} % di quanto gli "
        "altri impianti hanno prodotto per kW in {low_hours} ore di sole.",
        "en": "Plant {where}: on {day} it produced less than {share_pct} % of what the other "
        "plants produced per kW in {low_hours} daylight hours.",
    },
    "lighting_daytime": {
        "it": "Illuminazione {where}: {hours} ore accese col sole alto il {day} "
        "(fino a {max_seen_wh} Wh in un'ora).",
        "en": "Lighting {where}: on for {hours} hours with the sun up on {day} "
        "(up to {max_seen_wh} Wh in an hour).",
    },
    "baseload_jump": {
        "it": "{where}: il consumo notturno di base è {night_wh} Wh/h, oltre il {rise_pct} % "
        "sopra il livello abituale ({median_wh} Wh/h, mediana di {median_days} giorni).",
        "en": "{where}: the night base load is {night_wh} Wh/h, more than {rise_pct} % above "
        "its usual level ({median_wh} Wh/h, {median_days}-day median).",
    },
    "self_consumption_drop": {
        "it": "Energia condivisa della settimana al {ratio_pct} % dell'immessa, sotto la "
        "mediana di {weeks} settimane ({median_pct} %) di oltre il {drop_pct} %.",
        "en": "Shared energy of the week at {ratio_pct} % of the injected, more than "
        "{drop_pct} % below its {weeks}-week median ({median_pct} %).",
    },
    "surplus_threshold": {
        "it": "Insieme {set}: incentivata/immessa dall'inizio dell'anno al {ratio_pct} %, "
        "soglia {threshold_pct} %: la quota eccedente va (o andrà) solo a consumatori non "
        "imprese o a fini sociali.",
        "en": "Set {set}: year-to-date incentivised/injected at {ratio_pct} %, threshold "
        "{threshold_pct} %: the excess share goes (or will go) only to non-business "
        "consumers or social purposes.",
    },
    "member_leaving": {
        "it": "Il socio {where} esce dalla comunità il {left} (fra {days} giorni).",
        "en": "Member {where} leaves the community on {left} (in {days} days).",
    },
    "gse_discrepancy": {
        "it": "GSE {period} ({configuration}): {what} del GSE {gse} contro {ours} calcolati.",
        "en": "GSE {period} ({configuration}): the GSE's {what} {gse} against {ours} computed.",
    },
    "gse_payment_late": {
        "it": "GSE: nessun acconto registrato per {period} ({configuration}), atteso entro "
        "il {due}.",
        "en": "GSE: no advance recorded for {period} ({configuration}), due by {due}.",
    },
    "run_incomplete": {
        "it": "Liquidazione {period} ({run_id}) incompleta: {missing_readings} ore-POD senza "
        "letture, {missing_prices} ore senza prezzo.",
        "en": "Settlement {period} ({run_id}) incomplete: {missing_readings} POD-hours "
        "without readings, {missing_prices} hours without a price.",
    },
}

WORDS: Final[dict[str, dict[str, str]]] = {
    "shared energy": {"it": "energia condivisa", "en": "shared energy"},
    "TIP": {"it": "TIP", "en": "TIP"},
}


def message(kind: str, language: str, values: dict[str, Any]) -> str:
    """The text of an alert of ``kind`` in ``language`` (Italian when unknown)."""
    texts = MESSAGES[kind]
    return texts.get(language, texts["it"]).format(**values)


def word(term: str, language: str) -> str:
    """A term in ``language``."""
    return WORDS.get(term, {}).get(language, term)
