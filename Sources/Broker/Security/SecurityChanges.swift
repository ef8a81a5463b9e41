import Security

/// Changes made through the admin API (CreateAcls/DeleteAcls, AlterUserScramCredentials): each is
/// applied to a copy, written to the data directory (temp + fsync + rename), and only then swapped
/// in, so what is in force is always what is on disk. The watch lock serializes them with each
/// other and with hot reloads.
extension BrokerSecurity {
    /// Adds `rules` to the API-made set (existing ones are kept as they are, as in Kafka);
    /// returns each rule's id.
    func createApiAcls(_ rules: [AclRule], by context: RequestContext) -> Result<[Int], SecurityFileError> {
        watch.withLock { _ in
            var set = authorizer.apiAcls
            let known = Set(set.entries.map(\.id))
            let ids = set.create(rules)
            let created = set.entries.filter { !known.contains($0.id) }
            guard !created.isEmpty else { return .success(ids) }
            do throws(SecurityFileError) {
                try set.save(dataDirectory: dataDirectory)
            } catch {
                return .failure(error)
            }
            update { $0.apiAcls = set }
            recordAclChange(context, created: created, deleted: [])
            return .success(ids)
        }
    }

    /// Removes every API-made rule matching one of `filters`; per filter, the rules it matched.
    func deleteApiAcls(_ filters: [AclBindingFilter], by context: RequestContext)
        -> Result<[[(id: Int, rule: AclRule)]], SecurityFileError> {
        watch.withLock { _ in
            var set = authorizer.apiAcls
            let matched = set.delete(matching: filters)
            var deleted: [(id: Int, rule: AclRule)] = []
            var seen = Set<Int>()
            for entry in matched.joined() where seen.insert(entry.id).inserted { deleted.append(entry) }
            guard !deleted.isEmpty else { return .success(matched) }
            do throws(SecurityFileError) {
                try set.save(dataDirectory: dataDirectory)
            } catch {
                return .failure(error)
            }
            update { $0.apiAcls = set }
            recordAclChange(context, created: [], deleted: deleted)
            return .success(matched)
        }
    }

    /// AlterUserScramCredentials with the store's per-user semantics. Offline edits made since the
    /// last reload are picked up first, so they are not overwritten. A user whose change applied
    /// but could not be persisted gets `persistError` and nothing changes.
    func alterCredentials(deletions: [CredentialStore.Deletion], upsertions: [CredentialStore.Upsertion],
                          by context: RequestContext)
        -> [(user: String, error: CredentialError?, persistError: SecurityFileError?)] {
        watch.withLock { state in
            reloadCredentialsIfChanged(&state)
            var store = credentials
            let results = store.alter(deletions: deletions, upsertions: upsertions)
            guard results.contains(where: { $0.error == nil }) else {
                return results.map { ($0.user, $0.error, nil) }
            }
            do throws(SecurityFileError) {
                try store.save(dataDirectory: dataDirectory)
            } catch {
                return results.map { ($0.user, $0.error, $0.error == nil ? error : nil) }
            }
            credentialState.withLock { $0 = store }
            state.credentialStamp = .some(FileStamp.of(credentialPath, name: CredentialStore.fileName))
            for (user, error) in results where error == nil {
                recordCredentialChange(
                    context, user: user,
                    upserted: upsertions.filter { $0.user == user }
                        .compactMap { ScramMechanism(kafkaType: $0.mechanismType) },
                    deleted: deletions.filter { $0.user == user }
                        .compactMap { ScramMechanism(kafkaType: $0.mechanismType) })
            }
            return results.map { ($0.user, $0.error, nil) }
        }
    }
}
