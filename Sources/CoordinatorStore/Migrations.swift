import Foundation
import SQLKit

/// The schema, as numbered migrations. A migration is never edited once released: changes are
/// new migrations. Types are the common subset of SQLite and PostgreSQL; times are seconds since
/// 1970 (DOUBLE PRECISION).
public enum Migrations {
    /// Statements only one dialect runs (where the dialects differ: triggers, for one).
    public static let dialectSpecific: [Int: [SQLDialectKind: [String]]] = [
        2: [
            .sqlite: [
                """
                CREATE TRIGGER hours_ledger_append_only_update BEFORE UPDATE ON hours_ledger
                BEGIN SELECT RAISE(ABORT, 'hours_ledger is append-only: add a reversal entry instead'); END
                """,
                """
                CREATE TRIGGER hours_ledger_append_only_delete BEFORE DELETE ON hours_ledger
                BEGIN SELECT RAISE(ABORT, 'hours_ledger is append-only: add a reversal entry instead'); END
                """,
            ],
            .postgres: [
                """
                CREATE FUNCTION hours_ledger_append_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION 'hours_ledger is append-only: add a reversal entry instead'; END $$ LANGUAGE plpgsql
                """,
                """
                CREATE TRIGGER hours_ledger_append_only BEFORE UPDATE OR DELETE ON hours_ledger
                FOR EACH ROW EXECUTE FUNCTION hours_ledger_append_only()
                """,
            ],
        ],
        12: [
            .sqlite: typedColumns.flatMap { column in
                // SQLite cannot add a CHECK constraint to an existing table: triggers do its job.
                ["INSERT", "UPDATE OF \(column.column)"].map { event in
                    """
                    CREATE TRIGGER \(column.table)_\(column.column)_check_\(event.hasPrefix("INSERT") ? "insert" : "update")
                    BEFORE \(event) ON \(column.table)
                    WHEN NEW.\(column.column) NOT IN (\(column.allowed.map { "'\($0)'" }.joined(separator: ", ")))
                    BEGIN SELECT RAISE(ABORT, '\(column.table).\(column.column) must be one of \(column.allowed.joined(separator: ", "))'); END
                    """
                }
            },
            .postgres: typedColumns.map { column in
                """
                ALTER TABLE \(column.table) ADD CONSTRAINT \(column.table)_\(column.column)_check
                CHECK (\(column.column) IN (\(column.allowed.map { "'\($0)'" }.joined(separator: ", "))))
                """
            },
        ],
    ]

    /// The text columns that hold one of a fixed set of values (Swift enums), checked by the
    /// database from migration 12 on.
    public static let typedColumns: [(table: String, column: String, allowed: [String])] = [
        ("replicas", "state", ReplicaState.allCases.map(\.rawValue)),
        ("work_units", "state", WorkUnitState.allCases.map(\.rawValue)),
        ("datasets", "state", DatasetState.allCases.map(\.rawValue)),
        ("accounts", "role", [Role.admin, .astronomer, .volunteer].map(\.rawValue)),
        ("credentials", "kind", Role.allCases.map(\.rawValue)),
        ("hours_ledger", "kind", LedgerEntryKind.allCases.map(\.rawValue)),
    ]

    public static let all: [(version: Int, statements: [String])] = [
        (1, [
            """
            CREATE TABLE accounts (
                id TEXT PRIMARY KEY,
                role TEXT NOT NULL,
                name TEXT NOT NULL,
                email TEXT UNIQUE,
                created_at DOUBLE PRECISION NOT NULL)
            """,
            """
            CREATE TABLE hosts (
                id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts(id),
                name TEXT NOT NULL,
                cores INTEGER NOT NULL,
                memory_mb INTEGER NOT NULL,
                os TEXT NOT NULL,
                speed DOUBLE PRECISION NOT NULL DEFAULT 1,
                valid_streak INTEGER NOT NULL DEFAULT 0,
                invalid_count INTEGER NOT NULL DEFAULT 0,
                created_at DOUBLE PRECISION NOT NULL,
                last_seen DOUBLE PRECISION NOT NULL)
            """,
            """
            CREATE TABLE credentials (
                secret_hash TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                account_id TEXT NOT NULL REFERENCES accounts(id),
                host_id TEXT REFERENCES hosts(id),
                created_at DOUBLE PRECISION NOT NULL)
            """,
            """
            CREATE TABLE datasets (
                id TEXT PRIMARY KEY,
                owner_id TEXT NOT NULL REFERENCES accounts(id),
                name TEXT NOT NULL,
                preset TEXT NOT NULL,
                state TEXT NOT NULL,
                file_path TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                size_bytes BIGINT NOT NULL,
                dm_max DOUBLE PRECISION,
                accel_max DOUBLE PRECISION,
                dm_trials INTEGER NOT NULL DEFAULT 0,
                duration DOUBLE PRECISION NOT NULL DEFAULT 0,
                error TEXT,
                created_at DOUBLE PRECISION NOT NULL,
                completed_at DOUBLE PRECISION)
            """,
            "CREATE INDEX datasets_state ON datasets(state)",
            """
            CREATE TABLE work_units (
                id TEXT PRIMARY KEY,
                dataset_id TEXT NOT NULL REFERENCES datasets(id),
                seq INTEGER NOT NULL,
                state TEXT NOT NULL,
                payload_path TEXT NOT NULL,
                payload_sha256 TEXT NOT NULL,
                payload_size BIGINT NOT NULL,
                estimated_cost DOUBLE PRECISION NOT NULL,
                duration DOUBLE PRECISION NOT NULL,
                reporting_threshold DOUBLE PRECISION NOT NULL,
                series_count INTEGER NOT NULL,
                target_results INTEGER NOT NULL,
                max_replicas INTEGER NOT NULL,
                deadline_seconds DOUBLE PRECISION NOT NULL,
                canonical_replica TEXT,
                created_at DOUBLE PRECISION NOT NULL,
                validated_at DOUBLE PRECISION,
                UNIQUE (dataset_id, seq))
            """,
            "CREATE INDEX work_units_state ON work_units(state)",
            """
            CREATE TABLE replicas (
                id TEXT PRIMARY KEY,
                work_unit_id TEXT NOT NULL REFERENCES work_units(id),
                state TEXT NOT NULL,
                host_id TEXT REFERENCES hosts(id),
                account_id TEXT REFERENCES accounts(id),
                created_at DOUBLE PRECISION NOT NULL,
                sent_at DOUBLE PRECISION,
                acked_at DOUBLE PRECISION,
                deadline DOUBLE PRECISION,
                reported_at DOUBLE PRECISION,
                cpu_seconds DOUBLE PRECISION,
                result TEXT)
            """,
            "CREATE INDEX replicas_state ON replicas(state, created_at)",
            "CREATE INDEX replicas_unit ON replicas(work_unit_id)",
            "CREATE INDEX replicas_host ON replicas(host_id, state)",
            """
            CREATE TABLE candidates (
                dataset_id TEXT NOT NULL REFERENCES datasets(id),
                rank INTEGER NOT NULL,
                period_s DOUBLE PRECISION NOT NULL,
                dm DOUBLE PRECISION NOT NULL,
                sigma DOUBLE PRECISION NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (dataset_id, rank))
            """,
        ]),
        (2, [
            // Charity hours: one credit per validated result, corrections as reversal entries.
            """
            CREATE TABLE hours_ledger (
                id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts(id),
                volunteer_seq INTEGER NOT NULL,
                host_id TEXT REFERENCES hosts(id),
                replica_id TEXT UNIQUE,
                work_unit_id TEXT,
                dataset_id TEXT,
                kind TEXT NOT NULL,
                reverses TEXT UNIQUE REFERENCES hours_ledger(id),
                hours DOUBLE PRECISION NOT NULL,
                estimated_hours DOUBLE PRECISION NOT NULL,
                reported_cpu_seconds DOUBLE PRECISION NOT NULL,
                day TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                UNIQUE (account_id, volunteer_seq))
            """,
            "CREATE INDEX hours_ledger_host_day ON hours_ledger(host_id, day)",
            """
            CREATE TABLE volunteer_sync (
                account_id TEXT PRIMARY KEY REFERENCES accounts(id),
                platform_profile_id TEXT,
                synced_seq INTEGER NOT NULL DEFAULT 0,
                failures INTEGER NOT NULL DEFAULT 0,
                next_attempt DOUBLE PRECISION NOT NULL DEFAULT 0,
                last_error TEXT,
                last_success DOUBLE PRECISION)
            """,
            // Which DM trials a unit holds, and which trial a candidate's best detection was at:
            // together they say which volunteers' hosts took part in a candidate.
            "ALTER TABLE work_units ADD COLUMN dm_first INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE work_units ADD COLUMN dm_count INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE candidates ADD COLUMN dm_index INTEGER NOT NULL DEFAULT -1",
        ]),
        (3, [
            // Leases for the background jobs, so that any one of several coordinators runs each.
            """
            CREATE TABLE job_leases (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL)
            """,
        ]),
        (4, [
            // The assimilator and dataset status ask for one dataset's units by state, every few
            // seconds: without this they walk every unit of the dataset.
            "CREATE INDEX work_units_dataset_state ON work_units(dataset_id, state)",
        ]),
        (5, [
            // The network (/24 of IPv4, /48 of IPv6) a replica was handed to: replicas of one unit
            // go to different networks, so one person's machines cannot form a quorum alone.
            "ALTER TABLE replicas ADD COLUMN network TEXT",
        ]),
        (6, [
            // When the owner published the dataset (NULL: private). Only published datasets and
            // their candidates are on the public pages.
            "ALTER TABLE datasets ADD COLUMN published_at DOUBLE PRECISION",
        ]),
        (7, [
            // Platform link codes used so far: each links one profile once.
            """
            CREATE TABLE platform_link_codes (
                nonce TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts(id),
                profile_id TEXT NOT NULL,
                used_at DOUBLE PRECISION NOT NULL
            )
            """,
        ]),
        (8, [
            // Which platform profile each ledger entry is pushed to, numbered per profile: a
            // relinked volunteer starts a clean stream, and a reversal follows the entry it
            // reverses to the profile that received it. volunteer_sync.synced_seq now marks the
            // entries placed in a stream.
            """
            CREATE TABLE profile_stream (
                entry_id TEXT PRIMARY KEY REFERENCES hours_ledger(id),
                profile_id TEXT NOT NULL,
                account_id TEXT NOT NULL REFERENCES accounts(id),
                profile_seq INTEGER NOT NULL,
                acknowledged INTEGER NOT NULL DEFAULT 0,
                UNIQUE (profile_id, profile_seq)
            )
            """,
            "CREATE INDEX profile_stream_pending ON profile_stream(account_id, acknowledged, profile_id, profile_seq)",
        ]),
        (9, [
            // Each credit reads the host's latest valid replicas (its demonstrated speed caps its
            // daily hours): without this it sorts all of them.
            "CREATE INDEX replicas_host_reported ON replicas(host_id, state, reported_at)",
            // How many peaks a result measured: measuring them is part of the credited cost.
            "ALTER TABLE replicas ADD COLUMN peaks_measured INTEGER",
            // When a key was revoked (rotated, a lost host, a banned account); NULL while it works.
            "ALTER TABLE credentials ADD COLUMN revoked_at DOUBLE PRECISION",
            // Fencing tokens: a job's writes check that its lease has not changed hands.
            "ALTER TABLE job_leases ADD COLUMN token INTEGER NOT NULL DEFAULT 0",
        ]),
        (10, [
            // Peak memory of a unit's search, MB: a host is sent only units that fit its memory
            // limit. NULL for units split before (workers estimate those from the payload's size).
            "ALTER TABLE work_units ADD COLUMN memory_mb INTEGER",
        ]),
        (11, [
            // The preset and search plan a dataset was split with (JSON): the assimilator merges
            // with them, not with whatever the preset file says later. NULL for older datasets.
            "ALTER TABLE datasets ADD COLUMN split_plan TEXT",
        ]),
        // States, roles and ledger kinds hold only the values the Swift enums name (the
        // statements are per dialect: CHECK constraints on PostgreSQL, triggers on SQLite).
        (12, []),
        (13, [
            // A dataset's single-pulse events (bursts and interference), merged across its units
            // by the assimilator; body is the event's JSON.
            """
            CREATE TABLE single_pulse_events (
                dataset_id TEXT NOT NULL REFERENCES datasets(id),
                rank INTEGER NOT NULL,
                time_s DOUBLE PRECISION NOT NULL,
                dm DOUBLE PRECISION NOT NULL,
                snr DOUBLE PRECISION NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (dataset_id, rank)
            )
            """,
        ]),
    ]

    /// Applies every migration newer than the database's version, each in its own transaction.
    public static func apply(to storage: some SQLStorage) async throws {
        // Up to date (the usual case for a restart or a second process): a read, so that opening
        // the store does not queue for the write lock behind a busy coordinator.
        let versions = all.map(\.version)
        let applied = try? await storage.read { tx in
            try await tx.count("SELECT COUNT(*) AS n FROM schema_migrations WHERE version IN \(SQLBind.group(versions))")
        }
        if applied == versions.count { try await refuseNewerSchema(storage); return }
        try await storage.transaction { tx in
            if tx.dialect == .postgres { try await tx.run("SELECT pg_advisory_xact_lock(48151623)") }
            try await tx.run("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)")
        }
        for migration in all {
            try await storage.transaction { tx in
                // Coordinators starting together take turns (the lock ends with the transaction).
                if tx.dialect == .postgres { try await tx.run("SELECT pg_advisory_xact_lock(48151623)") }
                let done = try await tx.count("SELECT COUNT(*) AS n FROM schema_migrations WHERE version = \(bind: migration.version)")
                guard done == 0 else { return }
                for statement in migration.statements { try await tx.run(SQLQueryString(statement)) }
                for statement in dialectSpecific[migration.version]?[tx.dialect] ?? [] { try await tx.run(SQLQueryString(statement)) }
                try await tx.run("INSERT INTO schema_migrations (version, applied_at) VALUES (\(bind: migration.version), \(bind: Date().timeIntervalSince1970))")
            }
        }
        try await refuseNewerSchema(storage)
    }

    /// Refuses a database that a newer coordinator has migrated past what this one knows: its
    /// queries could misread columns it does not know about, or write rows the newer one reads wrong.
    static func refuseNewerSchema(_ storage: some SQLStorage) async throws {
        let newest = try await storage.read { tx in
            try await tx.count("SELECT COALESCE(MAX(version), 0) AS n FROM schema_migrations")
        }
        if newest > latest { throw StorageError.newerSchema(found: newest, known: latest) }
    }

    /// The newest schema version.
    public static var latest: Int { all.last?.version ?? 0 }
}
