public enum PhasorServicePlaceholder {}
