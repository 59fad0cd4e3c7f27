import Foundation

/// A minimal FITS reader written for the tests alone, without CFITSIO: header cards and the
/// SUBINT table's cells by byte offset, so that the PSRFITS reader's output can be checked against
/// an independent decoding of the same bytes.
struct PlainFITS {
    struct HDU {
        var cards: [String: String]
        var dataOffset: Int
    }

    let bytes: [UInt8]
    var hdus: [HDU] = []

    init(path: String) throws {
        bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var position = 0
        while position + 2880 <= bytes.count {
            var cards: [String: String] = [:]
            var ended = false
            while !ended {
                for i in 0..<36 {
                    let card = String(decoding: bytes[(position + i * 80)..<(position + i * 80 + 80)], as: UTF8.self)
                    if card.hasPrefix("END ") || card.trimmingCharacters(in: .whitespaces) == "END" { ended = true; break }
                    if card.dropFirst(8).hasPrefix("= ") {
                        let key = card.prefix(8).trimmingCharacters(in: .whitespaces)
                        var value = String(card.dropFirst(10))
                        if value.trimmingCharacters(in: .whitespaces).hasPrefix("'") {
                            let inner = value.drop { $0 != "'" }.dropFirst()
                            value = String(inner.prefix { $0 != "'" })
                        } else {
                            value = String(value.prefix { $0 != "/" })
                        }
                        cards[key] = value.trimmingCharacters(in: .whitespaces)
                    }
                }
                position += 2880
            }
            let hdu = HDU(cards: cards, dataOffset: position)
            hdus.append(hdu)
            let naxis = Int(cards["NAXIS"] ?? "0") ?? 0
            var size = naxis == 0 ? 0 : 1
            for i in stride(from: 1, through: naxis, by: 1) { size *= Int(cards["NAXIS\(i)"] ?? "0") ?? 0 }
            size = size * abs(Int(cards["BITPIX"] ?? "8") ?? 8) / 8 + (Int(cards["PCOUNT"] ?? "0") ?? 0)
            position += (size + 2879) / 2880 * 2880
        }
    }

    var subint: HDU { hdus.first { $0.cards["EXTNAME"] == "SUBINT" }! }

    /// Byte offset within a row, element size and count of column `name` of `hdu`.
    func column(_ name: String, in hdu: HDU) -> (offset: Int, size: Int, count: Int) {
        var offset = 0
        for i in 1... {
            guard let type = hdu.cards["TTYPE\(i)"], let form = hdu.cards["TFORM\(i)"] else { break }
            let count = Int(form.prefix { $0.isNumber }) ?? 1
            let size: Int = switch form.last! { case "D", "K": 8; case "E", "J": 4; case "I": 2; default: 1 }
            if type == name { return (offset, size, count) }
            offset += size * count
        }
        fatalError("no column \(name)")
    }

    /// The bytes of column `name` in `row` (0-based) of the SUBINT table.
    func cell(_ name: String, row: Int) -> ArraySlice<UInt8> {
        let hdu = subint
        let width = Int(hdu.cards["NAXIS1"]!)!
        let c = column(name, in: hdu)
        let start = hdu.dataOffset + row * width + c.offset
        return bytes[start..<(start + c.size * c.count)]
    }

    /// Big-endian IEEE floats of a cell.
    func floats(_ name: String, row: Int) -> [Float] {
        let cell = Array(cell(name, row: row))
        return stride(from: 0, to: cell.count, by: 4).map { i in
            Float(bitPattern: UInt32(cell[i]) << 24 | UInt32(cell[i + 1]) << 16 | UInt32(cell[i + 2]) << 8 | UInt32(cell[i + 3]))
        }
    }

    /// Total intensity of the SUBINT table, spectrum-major, decoded by the PSRFITS definition.
    func intensity() -> [Float] {
        let h = subint.cards
        let nch = Int(h["NCHAN"]!)!, npol = Int(h["NPOL"]!)!, nsblk = Int(h["NSBLK"]!)!, bits = Int(h["NBITS"]!)!
        let rows = Int(h["NAXIS2"]!)!
        let products: [Int] = npol == 1 || h["POL_TYPE"] == "IQUV" ? [0] : [0, 1]
        var out: [Float] = []
        for row in 0..<rows {
            let data = Array(cell("DATA", row: row))
            let scl = floats("DAT_SCL", row: row), offs = floats("DAT_OFFS", row: row), wts = floats("DAT_WTS", row: row)
            for s in 0..<nsblk {
                for c in 0..<nch {
                    var total: Float = 0
                    for p in products {
                        let index = (s * npol + p) * nch + c
                        let perByte = 8 / bits
                        let value = (data[index / perByte] >> UInt8(8 - bits * (index % perByte + 1))) & UInt8((1 << bits) - 1)
                        total += (Float(value) * scl[(p * nch + c) % scl.count] + offs[(p * nch + c) % offs.count]) * wts[c]
                    }
                    out.append(total)
                }
            }
        }
        return out
    }
}
