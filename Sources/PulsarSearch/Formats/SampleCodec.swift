/// Converts packed SIGPROC samples to `Float`.
///
/// Sub-byte samples (1, 2, 4 bits) are packed with the first sample in the low-order bits of each
/// byte; they are expanded through a 256-entry lookup table holding the `8 / nbits` values of
/// every possible byte. 8-bit samples are unsigned (or `Int8` when signed), 16-bit samples are
/// little-endian `UInt16` (or `Int16`), 32-bit samples are little-endian IEEE floats.
final class SampleUnpacker {
    let nbits: Int
    let isSigned: Bool
    /// For nbits < 8: `table[byte * samplesPerByte + k]` is sample k of `byte`.
    private let table: UnsafeMutablePointer<Float>?

    init(nbits: Int, isSigned: Bool) {
        self.nbits = nbits
        self.isSigned = isSigned
        if nbits < 8 {
            let perByte = 8 / nbits
            let mask = (1 << nbits) - 1
            let t = UnsafeMutablePointer<Float>.allocate(capacity: 256 * perByte)
            for byte in 0..<256 {
                for k in 0..<perByte {
                    t[byte * perByte + k] = Float((byte >> (k * nbits)) & mask)
                }
            }
            table = t
        } else {
            table = nil
        }
    }

    deinit { table?.deallocate() }

    /// Unpacks `count` samples that start at bit 0 of `source` into `destination[0..<count]`.
    func unpack(_ source: UnsafePointer<UInt8>, count: Int, into destination: UnsafeMutablePointer<Float>) {
        switch nbits {
        case 1: unpackSubByte(source, count: count, into: destination, perByte: 8)
        case 2: unpackSubByte(source, count: count, into: destination, perByte: 4)
        case 4: unpackSubByte(source, count: count, into: destination, perByte: 2)
        case 8:
            if isSigned {
                for i in 0..<count { destination[i] = Float(Int8(bitPattern: source[i])) }
            } else {
                for i in 0..<count { destination[i] = Float(source[i]) }
            }
        case 16:
            let raw = UnsafeRawPointer(source)
            if isSigned {
                for i in 0..<count {
                    let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))
                    destination[i] = Float(Int16(bitPattern: bits))
                }
            } else {
                for i in 0..<count {
                    destination[i] = Float(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self)))
                }
            }
        default:  // 32-bit IEEE float
            let raw = UnsafeRawPointer(source)
            #if _endian(little)
            UnsafeMutableRawPointer(destination).copyMemory(from: raw, byteCount: 4 * count)
            #else
            for i in 0..<count {
                let bits = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 &* i, as: UInt32.self))
                destination[i] = Float(bitPattern: bits)
            }
            #endif
        }
    }

    @inline(__always)
    private func unpackSubByte(
        _ source: UnsafePointer<UInt8>, count: Int, into destination: UnsafeMutablePointer<Float>, perByte: Int
    ) {
        guard let table else { return }
        let wholeBytes = count / perByte
        switch perByte {
        case 8:
            for i in 0..<wholeBytes {
                let t = table + Int(source[i]) &* 8
                let d = destination + i &* 8
                d[0] = t[0]; d[1] = t[1]; d[2] = t[2]; d[3] = t[3]
                d[4] = t[4]; d[5] = t[5]; d[6] = t[6]; d[7] = t[7]
            }
        case 4:
            for i in 0..<wholeBytes {
                let t = table + Int(source[i]) &* 4
                let d = destination + i &* 4
                d[0] = t[0]; d[1] = t[1]; d[2] = t[2]; d[3] = t[3]
            }
        default:
            for i in 0..<wholeBytes {
                let t = table + Int(source[i]) &* 2
                let d = destination + i &* 2
                d[0] = t[0]; d[1] = t[1]
            }
        }
        let rest = count - wholeBytes * perByte
        if rest > 0 {
            let t = table + Int(source[wholeBytes]) * perByte
            let d = destination + wholeBytes * perByte
            for k in 0..<rest { d[k] = t[k] }
        }
    }
}

/// Quantises `Float` samples to packed SIGPROC samples: round to nearest, clamp to the type's
/// range (NaN becomes the range's minimum); 32-bit samples are stored unchanged as floats.
enum SamplePacker {
    /// The inclusive integer range an `nbits` sample can hold.
    static func range(nbits: Int, isSigned: Bool) -> (low: Float, high: Float) {
        switch nbits {
        case 8: return isSigned ? (-128, 127) : (0, 255)
        case 16: return isSigned ? (-32768, 32767) : (0, 65535)
        case 32: return (-Float.greatestFiniteMagnitude, Float.greatestFiniteMagnitude)
        default: return (0, Float((1 << nbits) - 1))
        }
    }

    @inline(__always)
    static func quantise(_ x: Float, _ low: Float, _ high: Float) -> Float {
        x > low ? (x < high ? x.rounded() : high) : low
    }

    /// Packs `count` samples into `destination`, returning the number of bytes written. For
    /// nbits < 8, `count * nbits` must be a multiple of 8.
    static func pack(
        _ source: UnsafePointer<Float>, count: Int, nbits: Int, isSigned: Bool,
        into destination: UnsafeMutablePointer<UInt8>
    ) -> Int {
        let (low, high) = range(nbits: nbits, isSigned: isSigned)
        switch nbits {
        case 1, 2, 4:
            let perByte = 8 / nbits
            let bytes = count / perByte
            for i in 0..<bytes {
                var byte: UInt32 = 0
                let s = source + i &* perByte
                for k in 0..<perByte {
                    byte |= UInt32(quantise(s[k], low, high)) << UInt32(k &* nbits)
                }
                destination[i] = UInt8(truncatingIfNeeded: byte)
            }
            return bytes
        case 8:
            if isSigned {
                for i in 0..<count {
                    destination[i] = UInt8(bitPattern: Int8(quantise(source[i], low, high)))
                }
            } else {
                for i in 0..<count { destination[i] = UInt8(quantise(source[i], low, high)) }
            }
            return count
        case 16:
            let raw = UnsafeMutableRawPointer(destination)
            for i in 0..<count {
                let q = quantise(source[i], low, high)
                let bits = isSigned ? UInt16(bitPattern: Int16(q)) : UInt16(q)
                raw.storeBytes(of: bits.littleEndian, toByteOffset: 2 &* i, as: UInt16.self)
            }
            return 2 * count
        default:
            let raw = UnsafeMutableRawPointer(destination)
            #if _endian(little)
            raw.copyMemory(from: UnsafeRawPointer(source), byteCount: 4 * count)
            #else
            for i in 0..<count {
                raw.storeBytes(of: source[i].bitPattern.littleEndian, toByteOffset: 4 &* i, as: UInt32.self)
            }
            #endif
            return 4 * count
        }
    }
}
