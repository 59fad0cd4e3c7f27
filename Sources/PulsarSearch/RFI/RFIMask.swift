import Foundation

/// Which channel x block cells of a filterbank are interference, with what the cleaning needs to
/// replace them: each channel's typical level and scale.
///
/// File format (`xunxing rfi FILE -o MASK`), version 1: the line `XUNXING-RFI-MASK 1`, one line
/// of JSON (``Header``: geometry, options, per-channel levels), then
/// `channels x blocks` bits, block-major (cell (block b, channel c) is bit `b * channels + c`),
/// most significant bit of each byte first, 1 = masked.
public struct RFIMask: Sendable, Equatable {
    /// Everything but the bitmap.
    public struct Header: Sendable, Codable, Equatable {
        public var channels: Int
        public var blocks: Int
        /// Spectra per block (the last block may be shorter).
        public var blockSamples: Int
        public var spectra: Int
        public var sampleTime: Double
        public var options: RFIOptions
        /// Each channel's median block mean and median block standard deviation (unmasked blocks).
        public var channelLevel: [Float]
        public var channelScale: [Float]
    }

    public var header: Header
    /// `blocks x channels` flags, block-major.
    public var masked: [Bool]

    public init(header: Header, masked: [Bool]) {
        precondition(masked.count == header.blocks * header.channels)
        self.header = header
        self.masked = masked
    }

    public var channels: Int { header.channels }
    public var blocks: Int { header.blocks }

    public func isMasked(block: Int, channel: Int) -> Bool { masked[block * header.channels + channel] }

    /// The block holding spectrum `index`.
    public func block(ofSpectrum index: Int) -> Int { min(header.blocks - 1, index / max(1, header.blockSamples)) }

    /// Fraction of all cells masked.
    public var fractionMasked: Double { masked.isEmpty ? 0 : Double(masked.lazy.filter { $0 }.count) / Double(masked.count) }

    /// Fraction of each channel's blocks masked.
    public var channelFractions: [Double] {
        (0..<channels).map { c in Double((0..<blocks).lazy.filter { isMasked(block: $0, channel: c) }.count) / Double(max(1, blocks)) }
    }

    /// Fraction of each block's channels masked.
    public var blockFractions: [Double] {
        (0..<blocks).map { b in Double((0..<channels).lazy.filter { isMasked(block: b, channel: $0) }.count) / Double(max(1, channels)) }
    }

    /// Channels masked in every block.
    public var maskedChannels: [Int] { (0..<channels).filter { c in (0..<blocks).allSatisfy { isMasked(block: $0, channel: c) } } }

    static let magic = "XUNXING-RFI-MASK 1\n"

    /// The file's bytes.
    public func encoded() throws -> Data {
        var data = Data(Self.magic.utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        data.append(try encoder.encode(header))
        data.append(UInt8(ascii: "\n"))
        var bytes = [UInt8](repeating: 0, count: (masked.count + 7) / 8)
        for (i, m) in masked.enumerated() where m { bytes[i / 8] |= 0x80 >> UInt8(i % 8) }
        data.append(contentsOf: bytes)
        return data
    }

    /// Writes the mask to `path`.
    public func write(to path: String) throws {
        do {
            try encoded().write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FormatError.io(file: path, reason: "\(error)")
        }
    }

    /// Reads a mask file, naming the file and field of any problem.
    public static func read(from path: String) throws -> RFIMask {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FormatError.cannotOpen(file: path, reason: FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file")
        }
        return try decode(data, file: path)
    }

    /// Decodes a mask file's bytes.
    public static func decode(_ data: Data, file: String) throws -> RFIMask {
        let bytes = [UInt8](data)
        let magic = Array(Self.magic.utf8)
        guard bytes.starts(with: magic) else {
            throw FormatError.invalidValue(file: file, field: "magic", value: String(decoding: bytes.prefix(18), as: UTF8.self).debugDescription,
                                           reason: "not an RFI mask (it begins with \(Self.magic.dropLast().debugDescription))")
        }
        guard let end = bytes[magic.count...].firstIndex(of: UInt8(ascii: "\n")) else { throw FormatError.truncatedHeader(file: file, field: "header") }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[magic.count..<end]))
        } catch {
            throw FormatError.invalidValue(file: file, field: "header", value: "JSON", reason: "\(error)")
        }
        guard header.channels >= 1, header.blocks >= 1, header.blockSamples >= 1, header.spectra >= 1,
              header.channelLevel.count == header.channels, header.channelScale.count == header.channels
        else {
            throw FormatError.invalidValue(file: file, field: "header", value: "\(header.channels) channels x \(header.blocks) blocks",
                                           reason: "the per-channel arrays do not match the geometry")
        }
        let cells = header.channels * header.blocks
        let bitmap = bytes[(end + 1)...]
        guard bitmap.count == (cells + 7) / 8 else {
            throw FormatError.partialSample(file: file, field: "bitmap", value: "\(bitmap.count) bytes",
                                            reason: "\(header.channels) channels x \(header.blocks) blocks need \((cells + 7) / 8)")
        }
        let start = bitmap.startIndex
        let masked = (0..<cells).map { bitmap[start + $0 / 8] & (0x80 >> UInt8($0 % 8)) != 0 }
        return RFIMask(header: header, masked: masked)
    }

    /// Checks that the mask was made for `source`'s geometry.
    public func check(matches source: any SpectrumSource, file: String) throws {
        guard header.channels == source.channelCount, header.spectra == source.spectrumCount,
              abs(header.sampleTime - source.sampleTime) <= 1e-9 * source.sampleTime
        else {
            throw FormatError.invalidValue(
                file: file, field: "header", value: "\(header.channels) channels x \(header.spectra) spectra of \(header.sampleTime) s",
                reason: "the data have \(source.channelCount) channels x \(source.spectrumCount) spectra of \(source.sampleTime) s: a mask of another file")
        }
    }
}
