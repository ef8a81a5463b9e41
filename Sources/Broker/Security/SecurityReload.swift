import Foundation
import Security
import Synchronization

/// What a file looked like at the last check: enough to notice any rewrite without reading it.
struct FileStamp: Equatable, Sendable {
    var name: String
    var inode: UInt64
    var size: Int64
    var modifiedNs: Int64
    var changedNs: Int64

    /// nil when `path` does not exist (or cannot be stat'ed).
    static func of(_ path: String, name: String) -> FileStamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileStamp(name: name, inode: UInt64(info.st_ino), size: Int64(info.st_size),
                         modifiedNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                         changedNs: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
    }
}

/// The reload bookkeeping, behind `BrokerSecurity.watch`. Holding that lock also serializes every
/// writer of the security files (ACL and credential API changes, reloads), so a change made
/// through the API never races an offline edit being picked up.
struct SecurityWatch: Sendable {
    /// Stamps of the policy directory's `*.acl` files as last loaded or refused.
    var policyStamps: [FileStamp]?
    /// Stamps of the policy directory's `*.tenants` files as last loaded or refused.
    var tenantStamps: [FileStamp]?
    var tenantErrorReported: String?
    var tenantReloads = 0
    /// Stamp of `<data dir>/scram-credentials` as last loaded or written; `.some(nil)` = absent.
    /// Both are taken at start, before the files are read, so an edit made meanwhile is seen.
    var credentialStamp: FileStamp??
    /// The error text last reported for the policy / credentials, so a broken file is reported once.
    var policyErrorReported: String?
    var credentialErrorReported: String?
    var lastCheckMs: Int64 = .min
    var policyReloads = 0
    var credentialReloads = 0
    /// Refusals reported (each distinct error text once).
    var policyFailuresReported = 0
    var credentialFailuresReported = 0
}

extension BrokerSecurity {
    /// Minimum time between two checks of the files (the maintenance tick may run more often).
    static let reloadCheckIntervalMs: Int64 = 200

    /// Hot reload, called by the maintenance tick (about once a second). Cheap: one directory
    /// listing and a `stat` per policy file and for the credential file; files are read only when
    /// a name, size, inode or time changed.
    ///
    /// A changed policy that loads cleanly replaces the file rules atomically (API rules and super
    /// users from `super.users` stay); one with errors leaves the policy in force and reports every
    /// `file:line: message` once on stderr. The credential file (`sluice users` edits it offline)
    /// is reloaded the same way; logins after the swap see the new credentials.
    func reload(now: Int64) {
        watch.withLock { state in
            if now < state.lastCheckMs.addingReportingOverflow(Self.reloadCheckIntervalMs).partialValue { return }
            state.lastCheckMs = now
            if enabled, let directory = policyDirectory { reloadPolicy(directory, &state) }
            if let directory = policyDirectory { reloadTenants(directory, &state) }
            reloadCredentialsIfChanged(&state)
        }
    }

    static func stamps(ofPolicyDirectory directory: String, suffix: String = ".acl") -> [FileStamp] {
        guard let names = try? SecurityFiles.list(directory) else { return [] }
        return names.filter { $0.hasSuffix(suffix) }.compactMap { FileStamp.of(directory + "/" + $0, name: $0) }
    }

    /// The `*.tenants` files, like the `*.acl` files: a clean load replaces the set, a refused one
    /// keeps it and reports every error once. Super users (of the current policy and
    /// `super.users`) may not be members. Also re-checked after a policy reload (a new `super`
    /// line can make a tenant file invalid; the tenants in force stay until it is fixed).
    private func reloadTenants(_ directory: String, _ state: inout SecurityWatch, force: Bool = false) {
        let stamps = Self.stamps(ofPolicyDirectory: directory, suffix: TenantSet.fileSuffix)
        guard force || stamps != state.tenantStamps else { return }
        state.tenantStamps = stamps
        let superUsers = configSuperUsers.union(authorizer.policy.superUserRefs.keys)
        switch TenantSet.load(directory: directory, superUsers: superUsers) {
        case .success(let tenants):
            guard tenants != self.tenants || state.tenantErrorReported != nil else { return }
            replaceTenants(tenants)
            state.tenantErrorReported = nil
            state.tenantReloads += 1
            BrokerLog.shared.info("security", "reloaded tenants from \(directory): \(tenants.tenants.count) tenants in \(tenants.fileNames.count) files")
            emit(.reloaded(file: directory, error: nil))
        case .failure(let errors):
            let text = errors.description
            guard text != state.tenantErrorReported else { return }
            state.tenantErrorReported = text
            BrokerLog.shared.warn("security", "tenants in \(directory) NOT reloaded, the previous tenants stay in force:\n\(text)")
            emit(.reloaded(file: directory, error: text))
        }
    }

    private func reloadPolicy(_ directory: String, _ state: inout SecurityWatch) {
        let stamps = Self.stamps(ofPolicyDirectory: directory)
        guard stamps != state.policyStamps else { return }
        state.policyStamps = stamps
        switch PolicySet.load(directory: directory) {
        case .success(let policy):
            update { $0.policy = policy }
            reloadTenants(directory, &state, force: true)
            state.policyErrorReported = nil
            state.policyReloads += 1
            BrokerLog.shared.info("security", "reloaded policy from \(directory): \(policy.rules.count) rules in \(policy.fileNames.count) files")
            emit(.reloaded(file: directory, error: nil))
        case .failure(let errors):
            let text = errors.description
            guard text != state.policyErrorReported else { return }
            state.policyErrorReported = text
            state.policyFailuresReported += 1
            BrokerLog.shared.warn("security", "policy in \(directory) NOT reloaded, the previous policy stays in force:\n\(text)")
            emit(.reloaded(file: directory, error: text))
        }
    }

    var credentialPath: String { dataDirectory + "/" + CredentialStore.fileName }

    /// Reloads the credential file when its stamp differs from the one last seen. Called with the
    /// watch lock held (maintenance tick, and before an API change so offline edits are kept).
    func reloadCredentialsIfChanged(_ state: inout SecurityWatch) {
        let stamp = FileStamp.of(credentialPath, name: CredentialStore.fileName)
        if let known = state.credentialStamp, known == stamp { return }
        state.credentialStamp = .some(stamp)
        do {
            let store = try CredentialStore.load(dataDirectory: dataDirectory)
            credentialState.withLock { $0 = store }
            state.credentialErrorReported = nil
            state.credentialReloads += 1
            BrokerLog.shared.info("security", "reloaded \(credentialPath): \(store.userNames.count) users")
            emit(.reloaded(file: credentialPath, error: nil))
        } catch {
            let text = error.description
            guard text != state.credentialErrorReported else { return }
            state.credentialErrorReported = text
            state.credentialFailuresReported += 1
            BrokerLog.shared.warn("security", "\(credentialPath) NOT reloaded, the previous credentials stay in force: \(text)")
            emit(.reloaded(file: credentialPath, error: text))
        }
    }
}
