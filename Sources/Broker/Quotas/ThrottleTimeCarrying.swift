import KafkaProtocol

/// A response that carries `throttle_time_ms` (KIP-219): the dispatcher sets it when a quota
/// throttles the request and mutes the connection for that long.
protocol ThrottleTimeCarrying: KafkaAPIMessage {
    var throttleTimeMs: Int32 { get set }
}

// Every generated response with a top-level throttle_time_ms field.
extension AddOffsetsToTxnResponse: ThrottleTimeCarrying {}
extension AddPartitionsToTxnResponse: ThrottleTimeCarrying {}
extension AlterClientQuotasResponse: ThrottleTimeCarrying {}
extension AlterConfigsResponse: ThrottleTimeCarrying {}
extension AlterUserScramCredentialsResponse: ThrottleTimeCarrying {}
extension ApiVersionsResponse: ThrottleTimeCarrying {}
extension CreateAclsResponse: ThrottleTimeCarrying {}
extension CreatePartitionsResponse: ThrottleTimeCarrying {}
extension CreateTopicsResponse: ThrottleTimeCarrying {}
extension DeleteAclsResponse: ThrottleTimeCarrying {}
extension DeleteGroupsResponse: ThrottleTimeCarrying {}
extension DeleteRecordsResponse: ThrottleTimeCarrying {}
extension DeleteTopicsResponse: ThrottleTimeCarrying {}
extension DescribeAclsResponse: ThrottleTimeCarrying {}
extension DescribeClientQuotasResponse: ThrottleTimeCarrying {}
extension DescribeClusterResponse: ThrottleTimeCarrying {}
extension DescribeConfigsResponse: ThrottleTimeCarrying {}
extension DescribeGroupsResponse: ThrottleTimeCarrying {}
extension DescribeLogDirsResponse: ThrottleTimeCarrying {}
extension DescribeProducersResponse: ThrottleTimeCarrying {}
extension DescribeTransactionsResponse: ThrottleTimeCarrying {}
extension DescribeUserScramCredentialsResponse: ThrottleTimeCarrying {}
extension EndTxnResponse: ThrottleTimeCarrying {}
extension FetchResponse: ThrottleTimeCarrying {}
extension FindCoordinatorResponse: ThrottleTimeCarrying {}
extension HeartbeatResponse: ThrottleTimeCarrying {}
extension IncrementalAlterConfigsResponse: ThrottleTimeCarrying {}
extension InitProducerIdResponse: ThrottleTimeCarrying {}
extension JoinGroupResponse: ThrottleTimeCarrying {}
extension LeaveGroupResponse: ThrottleTimeCarrying {}
extension ListGroupsResponse: ThrottleTimeCarrying {}
extension ListOffsetsResponse: ThrottleTimeCarrying {}
extension ListTransactionsResponse: ThrottleTimeCarrying {}
extension MetadataResponse: ThrottleTimeCarrying {}
extension OffsetCommitResponse: ThrottleTimeCarrying {}
extension OffsetDeleteResponse: ThrottleTimeCarrying {}
extension OffsetFetchResponse: ThrottleTimeCarrying {}
extension OffsetForLeaderEpochResponse: ThrottleTimeCarrying {}
extension ProduceResponse: ThrottleTimeCarrying {}
extension SyncGroupResponse: ThrottleTimeCarrying {}
extension TxnOffsetCommitResponse: ThrottleTimeCarrying {}
