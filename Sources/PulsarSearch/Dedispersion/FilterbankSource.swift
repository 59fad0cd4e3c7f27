extension FilterbankReader: ByteSpectrumSource {
    public var channelCount: Int { header.nchans }
    public var sampleTime: Double { header.tsamp }
    public func channelFrequency(_ index: Int) -> Double { header.frequency(ofChannel: index) }
}
