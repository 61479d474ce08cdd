public enum PhasorTestingPlaceholder {}
