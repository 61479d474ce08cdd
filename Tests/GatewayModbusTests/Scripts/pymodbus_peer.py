"""An independent Modbus TCP peer for the gateway tests: pymodbus serves a Siemens
PAC2200 meter map (unit 1) and an Alfen Eve socket map (unit 2), with register
words encoded here by Python's struct module, not by Phasor's codec.

usage: pymodbus_peer.py PORT EXPECTED_JSON
Writes the values the gateway should publish (catalogue units) to EXPECTED_JSON,
then serves until killed."""
import asyncio
import json
import struct
import sys

from pymodbus.server import StartAsyncTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


def f32(value):
    return list(struct.unpack(">2H", struct.pack(">f", value)))


def f64(value):
    return list(struct.unpack(">4H", struct.pack(">d", value)))


def text(value, words):
    return list(struct.unpack(f">{words}H", value.encode("ascii").ljust(2 * words, b"\0")))


def image(points, size):
    registers = [0] * size
    for address, words in points:
        registers[address:address + len(words)] = words
    return registers


meter = {
    "voltage_l1": (1, 231.5), "voltage_l2": (3, 229.75), "voltage_l3": (5, 230.25),
    "current_l1": (13, 4.5), "current_l2": (15, 3.25), "current_l3": (17, 1.0),
    "power_l1": (25, 1000.5), "power_l2": (27, 700.25), "power_l3": (29, -150.0),
    "frequency": (55, 50.0), "power": (65, 1550.75), "power_factor": (69, 0.97),
}
meter_points = [(address, f32(value)) for address, value in meter.values()]
meter_points += [(801, f64(123456789.0)), (809, f64(2345678.0))]  # Wh
expected_meter = {name: value for name, (_, value) in meter.items()}
expected_meter.update({"energy_import": 123456.789, "energy_export": 2345.678})

charger_points = [
    (306, f32(230.0)), (308, f32(231.0)), (310, f32(229.0)),
    (320, f32(10.0)), (322, f32(10.0)), (324, f32(10.0)),
    (344, f32(6900.0)), (374, f64(7654321.0)),
    (1201, text("C2", 5)), (1206, f32(10.0)), (1210, f32(10.0)), (1212, f32(6.0)), (1215, [3]),
]
expected_charger = {"status": "charging", "raw_status": "C2", "current_l1": 10.0, "power": 6900.0,
                    "energy_import": 7654.321, "current_limit": 10.0}


async def main():
    port, expected_path = int(sys.argv[1]), sys.argv[2]
    devices = [
        SimDevice(1, simdata=[SimData(0, values=image(meter_points, 820), datatype=DataType.REGISTERS)]),
        SimDevice(2, simdata=[SimData(0, values=image(charger_points, 1220), datatype=DataType.REGISTERS)]),
    ]
    with open(expected_path, "w") as f:
        json.dump({"meter": expected_meter, "charger": expected_charger}, f)
    await StartAsyncTcpServer(context=devices, address=("127.0.0.1", port))


asyncio.run(main())
