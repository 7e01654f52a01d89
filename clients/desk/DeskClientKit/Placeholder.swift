public enum DeskClientKitPlaceholder {}
