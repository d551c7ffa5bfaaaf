public enum PlaceholderFaultlineTesting {}
