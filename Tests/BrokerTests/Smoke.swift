import Testing

@Test func BrokerTestsBuilds() { #expect(Bool(true)) }
