public enum ControlServicePlaceholder {}
