import Testing

@Test func LogStoreTestsBuilds() { #expect(Bool(true)) }
