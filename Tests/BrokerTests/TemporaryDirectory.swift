import Foundation

/// A fresh, empty directory under the system's temporary directory, for one test.
func makeTemporaryDirectory(_ label: String) -> String {
    let path = NSTemporaryDirectory() + "sluice-\(label)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
