/// Modbus: see the module's files. (Being built.)
public enum ModbusModule {}
