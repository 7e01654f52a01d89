// swift-tools-version:6.0
// orderdesk: a multi-user, chat-style order desk over TCP.
// No package dependencies: only the toolchain's modules and the system's SQLite and OpenSSL (libcrypto, libssl).
import PackageDescription

let package = Package(
    name: "orderdesk",
    products: [
        .executable(name: "orderdesk", targets: ["orderdesk"]),
        .executable(name: "desk", targets: ["desk"]),
        .executable(name: "orderdesk-bench", targets: ["orderdesk-bench"]),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // libpq, for the PostgreSQL store (docs/CLUSTER.md).
        .systemLibrary(
            name: "CLibpq",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CSSL",
            pkgConfig: "libssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // TLS over non-blocking sockets (OpenSSL's libssl), for the server and the clients alike.
        .target(name: "OrderDeskTLS", dependencies: ["CSSL"]),
        // Wire format shared by the server and the thin clients: framing, quoting, line kinds.
        .target(name: "OrderDeskWire"),
        // The pure domain: orders, stages, holds, claims as leases, queues, commands and replies.
        // No sockets, no Dispatch, no SQLite, no clock reads.
        .target(name: "OrderDeskCore", dependencies: ["OrderDeskWire"]),
        // Sockets, Dispatch sources, the serial queue that owns the desk, the store.
        .target(name: "OrderDeskServer", dependencies: ["OrderDeskCore", "OrderDeskTLS", "CSQLite", "CCrypto", "CLibpq"]),
        // Operations tooling for the command line, the bench and the tests, kept out of the server:
        // import and export, demo data, online backup and the data-file check, the data-file lock,
        // the Prometheus text of a METRICS reply, a throwaway PostgreSQL server (bench and tests).
        .target(name: "OrderDeskOps", dependencies: ["OrderDeskServer", "OrderDeskCore", "OrderDeskWire", "CSQLite"]),
        // The command line: serve, and the offline operations OrderDeskOps provides.
        .executableTarget(name: "orderdesk", dependencies: ["OrderDeskOps", "OrderDeskServer", "OrderDeskWire", "OrderDeskTLS"]),
        // libFuzzer target: the framer, tokenizer and parser, or command scripts against a desk
        // (docs/FUZZING.md); the shim declares the driver weak so ordinary builds link.
        .target(name: "CFuzzerShim"),
        .executableTarget(name: "orderdesk-fuzz", dependencies: ["OrderDeskCore", "OrderDeskWire", "CFuzzerShim"]),
        // Load generator and figures (docs/BENCHMARKS.md): swift run -c release orderdesk-bench
        .executableTarget(name: "orderdesk-bench", dependencies: ["OrderDeskOps", "OrderDeskServer", "OrderDeskTLS"]),
        // The thin terminal client: protocol and presentation only, no business rules.
        .target(name: "DeskClientKit", dependencies: ["OrderDeskWire", "OrderDeskTLS"], path: "clients/desk/DeskClientKit"),
        .executableTarget(name: "desk", dependencies: ["DeskClientKit"], path: "clients/desk/main"),
        // Test helpers for the end-to-end and client tests: a line client, a real server on port 0,
        // the `orderdesk` binary as a child process, throwaway certificates. It links the server.
        .target(name: "TestSupport", dependencies: ["OrderDeskServer", "OrderDeskOps", "OrderDeskWire", "OrderDeskTLS"], path: "Tests/TestSupport"),
        // Tests mirror modules: the wire's own tests link the wire alone, the core's link no server.
        .testTarget(name: "OrderDeskWireTests", dependencies: ["OrderDeskWire"]),
        .testTarget(name: "OrderDeskCoreTests", dependencies: ["OrderDeskCore"]),
        // Fixtures/ holds data files made by earlier versions; tests find them by #filePath.
        .testTarget(name: "OrderDeskServerTests", dependencies: ["OrderDeskServer", "OrderDeskOps", "OrderDeskWire", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DeskClientTests", dependencies: ["DeskClientKit", "OrderDeskCore", "OrderDeskServer", "TestSupport"], path: "Tests/DeskClientTests"),
    ]
)
