// The libFuzzer entry points for the FuzzTargets module; scripts/fuzz.sh compiles this file with
// `swiftc -sanitize=fuzzer -parse-as-library` and links it with the package's objects (built with
// coverage instrumentation in .build-fuzz). libFuzzer supplies `main`.
//
// Environment:
//   XUNXING_FUZZ_TARGET       filterbank | tim | inf | payload | api-bodies (required)
//   XUNXING_FUZZ_WRITE_SEEDS  a directory: write the target's seed corpus there and exit
//
// A broken contract (an untyped error, an unclear message, an accepted input with insane output)
// prints the violation and aborts, which libFuzzer reports as a crash and saves the input.

#if canImport(Glibc)
import Glibc
#endif
import FuzzTargets

nonisolated(unsafe) private var harness: FuzzHarness?
nonisolated(unsafe) private var target = FuzzTarget.filterbank

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> Int32 {
    guard let name = getenv("XUNXING_FUZZ_TARGET").map({ String(cString: $0) }), let chosen = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        fputs("set XUNXING_FUZZ_TARGET to one of: \(names)\n", stderr)
        exit(2)
    }
    target = chosen
    do {
        let h = try FuzzHarness()
        harness = h
        // libFuzzer ends with exit(): remove the scratch directory then.
        atexit { harness?.close() }
        if let out = getenv("XUNXING_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) {
            let seeds = try SeedCorpus.seeds(for: chosen, scratch: h)
            for (i, seed) in seeds.enumerated() {
                let path = "\(out)/seed-\(i)"
                guard let f = fopen(path, "wb") else { fputs("cannot write \(path)\n", stderr); exit(2) }
                _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
                fclose(f)
            }
            print("wrote \(seeds.count) seeds of \(chosen.rawValue) to \(out)")
            h.close()
            exit(0)
        }
    } catch {
        fputs("cannot prepare \(chosen.rawValue): \(error)\n", stderr)
        exit(2)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        try harness!.run(target, bytes)
    } catch {
        fputs("\(error)\n", stderr)
        abort()
    }
    return 0
}
