/// Faultline's version, printed by `faultline --version`.
public enum FaultlineVersion {
    public static let current = "0.1.0"
}
