/// Control: see the module's files. (Being built.)
public enum ControlModule {}
