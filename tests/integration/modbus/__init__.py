"""Tests of the Home Assistant-free Modbus layer against real pymodbus servers on loopback."""
