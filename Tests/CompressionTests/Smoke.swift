import Testing

@Test func CompressionTestsBuilds() { #expect(Bool(true)) }
