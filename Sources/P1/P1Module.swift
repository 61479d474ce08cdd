/// P1: see the module's files. (Being built.)
public enum P1Module {}
