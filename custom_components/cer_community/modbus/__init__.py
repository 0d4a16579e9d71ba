"""Home Assistant-free Modbus device library of cer_community."""
