// libFuzzer target for FuzzEntry.decompress; the invariants are stated there.
//
// SwiftPM links executables with `main` aliased to this module's entry point, which hides
// libFuzzer's own `main`, so the top-level code below hands control to libFuzzer's driver.
import CFuzzerDriver
#if canImport(Glibc)
import Glibc
#endif
import FuzzEntryPoints

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzEntry.decompress(count == 0 ? [] : Array(UnsafeBufferPointer(start: start, count: count)))
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
