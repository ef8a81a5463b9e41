import KafkaProtocol

/// A small Kafka client on one broker connection: admin calls, produce and fetch of raw record
/// batches. The CLI, the benchmarks and the tests use it; it shares the broker's codecs.
public final class KafkaClient {
    public let connection: KafkaConnection

    public init(bootstrap: String, clientId: String = "sluice-cli", security: ClientSecurity = ClientSecurity())
        throws(ClientError) {
        let (host, port) = KafkaConnection.parse(bootstrap: bootstrap)
        connection = try KafkaConnection(host: host, port: port, clientId: clientId, security: security)
        try connection.negotiate()
        try connection.authenticate(security)
    }

    // MARK: Metadata and admin

    public func metadata(topics: [String]?) throws(ClientError) -> MetadataResponse {
        var request = MetadataRequest()
        request.topics = topics.map { names in
            names.map { name in
                var t = MetadataRequest.MetadataRequestTopic()
                t.name = name
                return t
            }
        }
        request.allowAutoTopicCreation = false
        return try connection.roundTrip(request)
    }

    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int16 = -1,
                            configs: [String: String] = [:], validateOnly: Bool = false) throws(ClientError) {
        var topic = CreateTopicsRequest.CreatableTopic()
        topic.name = name
        topic.numPartitions = partitions
        topic.replicationFactor = replicationFactor
        topic.configs = configs.sorted { $0.key < $1.key }.map { key, value in
            var c = CreateTopicsRequest.CreatableTopicConfig()
            c.name = key
            c.value = value
            return c
        }
        var request = CreateTopicsRequest()
        request.topics = [topic]
        request.timeoutMs = 30_000
        request.validateOnly = validateOnly
        let response: CreateTopicsResponse = try connection.roundTrip(request)
        if let result = response.topics.first, result.errorCode != 0 {
            throw .kafka(KafkaError(result.errorCode), result.errorMessage ?? "")
        }
    }

    public func deleteTopic(_ name: String) throws(ClientError) {
        var request = DeleteTopicsRequest()
        let version = try connection.version(for: DeleteTopicsRequest.self)
        if version >= 6 {
            var state = DeleteTopicsRequest.DeleteTopicState()
            state.name = name
            request.topics = [state]
        } else {
            request.topicNames = [name]
        }
        request.timeoutMs = 30_000
        let response: DeleteTopicsResponse = try connection.roundTrip(request, version: version)
        if let result = response.responses.first, result.errorCode != 0 {
            throw .kafka(KafkaError(result.errorCode), result.errorMessage ?? "")
        }
    }

    public func createPartitions(_ name: String, count: Int32) throws(ClientError) {
        var topic = CreatePartitionsRequest.CreatePartitionsTopic()
        topic.name = name
        topic.count = count
        topic.assignments = nil
        var request = CreatePartitionsRequest()
        request.topics = [topic]
        request.timeoutMs = 30_000
        let response: CreatePartitionsResponse = try connection.roundTrip(request)
        if let result = response.results.first, result.errorCode != 0 {
            throw .kafka(KafkaError(result.errorCode), result.errorMessage ?? "")
        }
    }

    /// Effective topic configs as (name, value, source).
    public func describeTopicConfigs(_ name: String) throws(ClientError)
        -> [DescribeConfigsResponse.DescribeConfigsResourceResult] {
        var resource = DescribeConfigsRequest.DescribeConfigsResource()
        resource.resourceType = 2
        resource.resourceName = name
        resource.configurationKeys = nil
        var request = DescribeConfigsRequest()
        request.resources = [resource]
        let response: DescribeConfigsResponse = try connection.roundTrip(request)
        guard let result = response.results.first else { return [] }
        if result.errorCode != 0 { throw .kafka(KafkaError(result.errorCode), result.errorMessage ?? "") }
        return result.configs
    }

    /// IncrementalAlterConfigs on a topic: set the given keys, delete those mapped to nil.
    public func alterTopicConfigs(_ name: String, set: [String: String], delete: [String] = []) throws(ClientError) {
        var resource = IncrementalAlterConfigsRequest.AlterConfigsResource()
        resource.resourceType = 2
        resource.resourceName = name
        for (key, value) in set.sorted(by: { $0.key < $1.key }) {
            var c = IncrementalAlterConfigsRequest.AlterableConfig()
            c.name = key
            c.configOperation = 0
            c.value = value
            resource.configs.append(c)
        }
        for key in delete {
            var c = IncrementalAlterConfigsRequest.AlterableConfig()
            c.name = key
            c.configOperation = 1
            c.value = nil
            resource.configs.append(c)
        }
        var request = IncrementalAlterConfigsRequest()
        request.resources = [resource]
        let response: IncrementalAlterConfigsResponse = try connection.roundTrip(request)
        if let result = response.responses.first, result.errorCode != 0 {
            throw .kafka(KafkaError(result.errorCode), result.errorMessage ?? "")
        }
    }

    /// A producer id and epoch for an idempotent (non-transactional) producer.
    public func initProducerId() throws(ClientError) -> (producerId: Int64, epoch: Int16) {
        var request = InitProducerIdRequest()
        request.transactionalId = nil
        request.transactionTimeoutMs = 60_000
        let response: InitProducerIdResponse = try connection.roundTrip(request)
        if response.errorCode != 0 { throw .kafka(KafkaError(response.errorCode), "InitProducerId") }
        return (response.producerId, response.producerEpoch)
    }

    // MARK: Offsets

    /// ListOffsets for one partition: -1 latest, -2 earliest, -3 max timestamp, or a timestamp.
    public func listOffset(topic: String, partition: Int32, timestamp: Int64) throws(ClientError)
        -> (offset: Int64, timestamp: Int64) {
        var p = ListOffsetsRequest.ListOffsetsPartition()
        p.partitionIndex = partition
        p.timestamp = timestamp
        var t = ListOffsetsRequest.ListOffsetsTopic()
        t.name = topic
        t.partitions = [p]
        var request = ListOffsetsRequest()
        request.replicaId = -1
        request.topics = [t]
        let response: ListOffsetsResponse = try connection.roundTrip(request)
        guard let answer = response.topics.first?.partitions.first else { throw .io("empty ListOffsets response") }
        if answer.errorCode != 0 { throw .kafka(KafkaError(answer.errorCode), "ListOffsets \(topic)-\(partition)") }
        return (answer.offset, answer.timestamp)
    }

    // MARK: Produce and fetch

    /// Builds a Produce request carrying one batch per listed partition.
    public static func produceRequest(topic: String, batches: [(partition: Int32, records: [UInt8])], acks: Int16,
                                      timeoutMs: Int32 = 30_000) -> ProduceRequest {
        var t = ProduceRequest.TopicProduceData()
        t.name = topic
        t.partitionData = batches.map { item in
            var p = ProduceRequest.PartitionProduceData()
            p.index = item.partition
            p.records = item.records
            return p
        }
        var request = ProduceRequest()
        request.transactionalId = nil
        request.acks = acks
        request.timeoutMs = timeoutMs
        request.topicData = [t]
        return request
    }

    /// Produces one batch and waits for the answer; returns the base offset.
    @discardableResult
    public func produce(topic: String, partition: Int32, batch: [UInt8], acks: Int16 = -1) throws(ClientError) -> Int64 {
        let request = Self.produceRequest(topic: topic, batches: [(partition, batch)], acks: acks)
        let version = try connection.version(for: ProduceRequest.self)
        if acks == 0 {
            try connection.send(request, version: version, expectResponse: false)
            return -1
        }
        let response: ProduceResponse = try connection.roundTrip(request, version: version)
        guard let answer = response.responses.first?.partitionResponses.first else { throw .io("empty Produce response") }
        if answer.errorCode != 0 {
            throw .kafka(KafkaError(answer.errorCode), answer.errorMessage ?? "")
        }
        return answer.baseOffset
    }

    /// One fetch of one partition; returns the partition's answer (records may hold several batches).
    public func fetch(topic: String, partition: Int32, offset: Int64, maxBytes: Int32 = 1 << 20,
                      maxWaitMs: Int32 = 500, minBytes: Int32 = 1) throws(ClientError) -> FetchResponse.PartitionData {
        var p = FetchRequest.FetchPartition()
        p.partition = partition
        p.fetchOffset = offset
        p.partitionMaxBytes = maxBytes
        var t = FetchRequest.FetchTopic()
        t.topic = topic
        t.partitions = [p]
        var request = FetchRequest()
        request.replicaId = -1
        request.maxWaitMs = maxWaitMs
        request.minBytes = minBytes
        request.maxBytes = maxBytes
        request.topics = [t]
        let response: FetchResponse = try connection.roundTrip(request)
        if response.errorCode != 0 { throw .kafka(KafkaError(response.errorCode), "Fetch") }
        guard let answer = response.responses.first?.partitions.first else { throw .io("empty Fetch response") }
        return answer
    }
}
