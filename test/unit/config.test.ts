/**
 * loadConfig: defaults and rejection of bad input, with exact messages.
 * Proves: each invalid input is refused with a message naming the key, the value and what is
 * allowed. Does not prove: that resources are withheld (test/mocks/badConfig.test.ts does).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig, Secret } from "../../components/config";
import { stackConfig } from "../helpers/mocks";

const BASE = { "bonito-vault:cloud": "local", "bonito-vault:image": "hashicorp/vault:1.21.1" };

function problems(stack: string, raw: Record<string, string>, secretKeys: string[] = []): string[] {
    // prod and staging cases start from the committed stack file, so only the mutation under test is wrong.
    const base = stack === "local" ? BASE : stackConfig(stack);
    try {
        loadConfig(stack, { ...base, ...raw }, new Set(secretKeys), { allowExampleKeys: true });
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
        return e.problems;
    }
    return [];
}

/** Only the problems about one key, so other areas' rules do not blur the assertion. */
function problemsFor(key: string, stack: string, raw: Record<string, string>, secretKeys: string[] = []): string[] {
    return problems(stack, raw, secretKeys).filter((p) => p.startsWith(`bonito-vault:${key} `));
}

describe("the internal CA's slots (a CA change in two steps)", () => {
    const ca = (raw: Record<string, string>) => loadConfig("local", { ...BASE, ...raw }).tls.ca;
    it("trusts the issuing CA alone by default; both during a change, in slot order", () => {
        assert.deepEqual(ca({}), { issuing: "a", trusted: ["a"] });
        assert.deepEqual(ca({ "bonito-vault:tlsCaTrusted": '["b", "a"]' }), { issuing: "a", trusted: ["a", "b"] });
        assert.deepEqual(ca({ "bonito-vault:tlsCaIssuing": "b", "bonito-vault:tlsCaTrusted": '["a","b"]' }), {
            issuing: "b",
            trusted: ["a", "b"],
        });
        assert.deepEqual(ca({ "bonito-vault:tlsCaIssuing": "b" }), { issuing: "b", trusted: ["b"] });
    });
    it("refuses a trust list without the issuing CA, a repeat, another slot, or a list outside internal-ca", () => {
        assert.deepEqual(
            problemsFor("tlsCaTrusted", "local", {
                "bonito-vault:tlsCaIssuing": "b",
                "bonito-vault:tlsCaTrusted": '["a"]',
            }),
            [
                'bonito-vault:tlsCaTrusted leaves out tlsCaIssuing (b): the nodes would serve certificates no client trusts; list it (docs/runbook.md "Rotating certificates") (got [a])',
            ],
        );
        assert.match(
            problemsFor("tlsCaTrusted", "local", { "bonito-vault:tlsCaTrusted": '["a","a"]' })[0],
            /lists a CA twice/,
        );
        assert.match(
            problemsFor("tlsCaTrusted", "local", { "bonito-vault:tlsCaTrusted": '["c"]' })[0],
            /every item must be a or b/,
        );
        assert.match(
            problemsFor("tlsCaTrusted", "local", {
                "bonito-vault:tlsMode": "upstream-proxy",
                "bonito-vault:tlsTerminatesAtTrustedProxy": "true",
                "bonito-vault:tlsCaTrusted": '["a"]',
            })[0],
            /is only used when tlsMode is internal-ca \(tlsMode is upstream-proxy\)/,
        );
    });
});

describe("defaults", () => {
    it("applies every core default in one place", () => {
        const c = loadConfig("local", BASE);
        assert.equal(c.nodes, 3);
        assert.equal(c.storage, "raft");
        assert.equal(c.engine, "vault");
        assert.deepEqual(c.nodeNames, ["vault-0", "vault-1", "vault-2"]);
        assert.deepEqual(c.dockerHosts, [undefined, undefined, undefined]);
        assert.deepEqual(c.nodeAddresses, ["vault-0", "vault-1", "vault-2"]);
        assert.equal(c.multiHost, false);
        assert.deepEqual([c.apiPort, c.clusterPort, c.peerPort, c.hostPortBase], [8200, 8201, 8202, 8200]);
        assert.equal(c.publishAddress, "127.0.0.1");
        assert.deepEqual(c.tls, {
            mode: "internal-ca",
            minVersion: "tls12",
            mtls: true,
            validityHours: 8760,
            earlyRenewalHours: 720,
            caValidityHours: 87600,
            ca: { issuing: "a", trusted: ["a"] },
            extraSans: [],
            provided: undefined,
        });
        assert.deepEqual(
            [c.memoryMb, c.logLevel, c.ui, c.defaultLeaseTtl, c.maxLeaseTtl],
            [1024, "info", false, "1h", "24h"],
        );
    });

    it("defaults tlsMinVersion to tls13 on prod (committed prod stack without the key)", () => {
        const c = loadConfig("prod", stackConfig("prod", { tlsMinVersion: undefined }), new Set(), {
            allowExampleKeys: true,
        });
        assert.equal(c.tls.minVersion, "tls13");
        assert.equal(
            loadConfig("staging", stackConfig("staging", { tlsMinVersion: undefined }), new Set(), {
                allowExampleKeys: true,
            }).tls.minVersion,
            "tls12",
        );
    });

    it("derives the engine from the image", () => {
        assert.equal(loadConfig("local", { ...BASE, "bonito-vault:image": "openbao/openbao:2.6.2" }).engine, "openbao");
        assert.equal(
            loadConfig("local", { ...BASE, "bonito-vault:image": "quay.io/openbao/openbao:2.6.2" }).engine,
            "openbao",
        );
        assert.equal(
            loadConfig("local", {
                ...BASE,
                "bonito-vault:image": "openbao/openbao:2.6.2",
                "bonito-vault:engine": "vault",
            }).engine,
            "vault",
        );
    });

    it("accepts digest pins, with or without a tag", () => {
        const digest = "sha256:" + "a".repeat(64);
        for (const image of [
            `hashicorp/vault@${digest}`,
            `hashicorp/vault:1.21.1@${digest}`,
            `registry.example:5000/sec/vault:1.21.1`,
        ]) {
            assert.equal(loadConfig("local", { ...BASE, "bonito-vault:image": image }).image, image);
        }
    });

    it("wraps secret keys so they never print", () => {
        const s = new Secret("hunter2");
        assert.equal(`${s}`, "[secret]");
        assert.equal(JSON.stringify({ s }), '{"s":"[secret]"}');
        assert.equal(s.reveal(), "hunter2");
    });
});

describe("invalid configurations", () => {
    const cases: [string, string, string, Record<string, string>, string[]][] = [
        [
            "even node count",
            "nodes",
            "local",
            { "bonito-vault:nodes": "2" },
            ['bonito-vault:nodes must be one of 1, 3, 5, 7 (got "2")'],
        ],
        [
            "zero nodes",
            "nodes",
            "local",
            { "bonito-vault:nodes": "0" },
            ['bonito-vault:nodes must be one of 1, 3, 5, 7 (got "0")'],
        ],
        [
            "more than 7 nodes",
            "nodes",
            "local",
            { "bonito-vault:nodes": "9" },
            ['bonito-vault:nodes must be one of 1, 3, 5, 7 (got "9")'],
        ],
        [
            "non-numeric nodes",
            "nodes",
            "local",
            { "bonito-vault:nodes": "three" },
            ['bonito-vault:nodes must be one of 1, 3, 5, 7 (got "three")'],
        ],
        [
            "one node on prod",
            "nodes",
            "prod",
            { "bonito-vault:nodes": "1" },
            ['bonito-vault:nodes must be at least 3 on a production stack (one node has no failover) (got "1")'],
        ],
        [
            "image latest",
            "image",
            "local",
            { "bonito-vault:image": "hashicorp/vault:latest" },
            [
                'bonito-vault:image must be an image pinned by digest (repo@sha256:<64 hex>) or an exact version tag (repo:1.21.1); latest, no tag and floating tags are refused (got "hashicorp/vault:latest")',
            ],
        ],
        [
            "image without tag",
            "image",
            "local",
            { "bonito-vault:image": "hashicorp/vault" },
            [
                'bonito-vault:image must be an image pinned by digest (repo@sha256:<64 hex>) or an exact version tag (repo:1.21.1); latest, no tag and floating tags are refused (got "hashicorp/vault")',
            ],
        ],
        [
            "floating minor tag",
            "image",
            "local",
            { "bonito-vault:image": "hashicorp/vault:1.21" },
            [
                'bonito-vault:image must be an image pinned by digest (repo@sha256:<64 hex>) or an exact version tag (repo:1.21.1); latest, no tag and floating tags are refused (got "hashicorp/vault:1.21")',
            ],
        ],
        [
            "unknown cloud",
            "cloud",
            "local",
            { "bonito-vault:cloud": "oracle" },
            ['bonito-vault:cloud must be one of aws, azure, gcp, local (got "oracle")'],
        ],
        [
            "duplicate node names",
            "nodeNames",
            "local",
            { "bonito-vault:nodeNames": '["a","b","a"]' },
            ['bonito-vault:nodeNames lists "a" twice; node names must be unique (got [a, b, a])'],
        ],
        [
            "invalid node name",
            "nodeNames",
            "local",
            { "bonito-vault:nodeNames": '["vault_0","b","c"]' },
            [
                'bonito-vault:nodeNames every item must be a DNS label (a-z, 0-9, -); not "vault_0" (got [vault_0, b, c])',
            ],
        ],
        [
            "duplicate docker hosts",
            "dockerHosts",
            "staging",
            {
                "bonito-vault:dockerHosts": '["ssh://h1","ssh://h2","ssh://h1"]',
                "bonito-vault:nodeAddresses": '["a","b","c"]',
            },
            [
                'bonito-vault:dockerHosts lists "ssh://h1" twice; one node per host, or a single host for all (got [ssh://h1, ssh://h2, ssh://h1])',
            ],
        ],
        [
            "prod on one docker host",
            "dockerHosts",
            "prod",
            { "bonito-vault:dockerHosts": '["ssh://h1"]' },
            [
                "bonito-vault:dockerHosts must list one distinct Docker host per node on prod (nodes is 3), so one machine's loss keeps quorum (got [ssh://h1])",
            ],
        ],
        [
            "several hosts without addresses",
            "nodeAddresses",
            "staging",
            { "bonito-vault:dockerHosts": '["ssh://h1","ssh://h2","ssh://h3"]' },
            [
                "bonito-vault:nodeAddresses is required when nodes run on more than one Docker host: one reachable name or IP per node",
            ],
        ],
        [
            "port out of range",
            "apiPort",
            "local",
            { "bonito-vault:apiPort": "70000" },
            ['bonito-vault:apiPort must be a whole number from 1024 to 65535 (got "70000")'],
        ],
        [
            "api and cluster port clash",
            "clusterPort",
            "local",
            { "bonito-vault:apiPort": "9000", "bonito-vault:clusterPort": "9000" },
            ['bonito-vault:clusterPort equals apiPort (9000); each listener needs its own port (got "9000")'],
        ],
        [
            "peer port clash",
            "peerPort",
            "local",
            { "bonito-vault:peerPort": "8200" },
            [
                'bonito-vault:peerPort 8200 clashes with apiPort or clusterPort; choose a free port (got "8200")',
                'bonito-vault:peerPort 8200+1 is taken by apiPort or clusterPort; Vault binds peerPort+1 for that listener\'s cluster traffic (got "8200")',
            ],
        ],
        [
            "TLS off without the proxy statement",
            "tlsMode",
            "local",
            { "bonito-vault:tlsMode": "upstream-proxy" },
            [
                'bonito-vault:tlsMode upstream-proxy turns TLS off at Vault; set tlsTerminatesAtTrustedProxy: true to state that a trusted proxy on a private network terminates TLS (got "upstream-proxy")',
            ],
        ],
        [
            "TLS off on prod even with the statement",
            "tlsMode",
            "prod",
            { "bonito-vault:tlsMode": "upstream-proxy", "bonito-vault:tlsTerminatesAtTrustedProxy": "true" },
            [
                'bonito-vault:tlsMode upstream-proxy is not allowed on prod: Vault itself must terminate TLS (got "upstream-proxy")',
            ],
        ],
        [
            "tls12 on prod",
            "tlsMinVersion",
            "prod",
            { "bonito-vault:tlsMinVersion": "tls12" },
            ['bonito-vault:tlsMinVersion must be tls13 on a production stack (got "tls12")'],
        ],
        [
            "tls10",
            "tlsMinVersion",
            "local",
            { "bonito-vault:tlsMinVersion": "tls10" },
            ['bonito-vault:tlsMinVersion must be one of tls12, tls13 (got "tls10")'],
        ],
        [
            "mTLS off on prod",
            "mtls",
            "prod",
            { "bonito-vault:mtls": "false" },
            [
                'bonito-vault:mtls must be true on prod: nodes authenticate each other with CA-signed certificates (got "false")',
            ],
        ],
        [
            "non-boolean",
            "ui",
            "local",
            { "bonito-vault:ui": "yes" },
            ['bonito-vault:ui must be true or false (got "yes")'],
        ],
        [
            "file storage with 3 nodes",
            "storage",
            "local",
            { "bonito-vault:storage": "file" },
            ['bonito-vault:storage file storage serves exactly one node, but nodes is 3; use raft (got "file")'],
        ],
        [
            "early renewal beyond validity",
            "tlsEarlyRenewalHours",
            "local",
            { "bonito-vault:tlsValidityHours": "100", "bonito-vault:tlsEarlyRenewalHours": "200" },
            ['bonito-vault:tlsEarlyRenewalHours 200 must be below tlsValidityHours (100) (got "200")'],
        ],
        [
            "provided TLS without the files",
            "tlsCert",
            "local",
            { "bonito-vault:tlsMode": "provided" },
            ["bonito-vault:tlsCert is required when tlsMode is provided"],
        ],
        [
            "bad duration",
            "maxLeaseTtl",
            "local",
            { "bonito-vault:maxLeaseTtl": "1 day" },
            ['bonito-vault:maxLeaseTtl must be a duration such as 30s, 15m or 4h (got "1 day")'],
        ],
        [
            "nodes list without brackets",
            "nodeNames",
            "local",
            { "bonito-vault:nodeNames": "vault-0,vault-1" },
            [
                'bonito-vault:nodeNames must be a YAML list such as [vault-0, vault-1] (square brackets, or one "- item" per line) (got "vault-0,vault-1")',
            ],
        ],
    ];
    for (const [what, key, stack, raw, expected] of cases) {
        it(`rejects ${what}`, () => {
            assert.deepEqual(problemsFor(key, stack, raw), expected);
        });
    }

    it("refuses a secret key stored in plain text, without echoing it", () => {
        const key = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";
        const p = problemsFor("tlsKey", "local", { "bonito-vault:tlsKey": key });
        assert.deepEqual(p, [
            "bonito-vault:tlsKey holds a secret but is stored in plain text; set it with `pulumi config set --secret tlsKey`",
            "bonito-vault:tlsKey is only used when tlsMode is provided (tlsMode is internal-ca)",
        ]);
        assert.ok(!problems("local", { "bonito-vault:tlsKey": key }).join("\n").includes("abc"));
    });

    it("names unknown keys and suggests the closest", () => {
        assert.deepEqual(problems("local", { "bonito-vault:nodse": "3" }), [
            "bonito-vault:nodse is not a key of this project; did you mean bonito-vault:nodes? (docs/configuration.md lists every key)",
        ]);
    });

    it("ignores other namespaces (provider settings)", () => {
        assert.deepEqual(problems("local", { "aws:region": "eu-west-1" }), []);
    });

    it("reports every problem at once", () => {
        const p = problems("local", { "bonito-vault:nodes": "2", "bonito-vault:ui": "maybe" });
        assert.ok(p.length >= 2);
        const err = (() => {
            try {
                loadConfig("local", { ...BASE, "bonito-vault:nodes": "2", "bonito-vault:ui": "maybe" });
            } catch (e) {
                return e as Error;
            }
            throw new Error("no error");
        })();
        assert.match(err.message, /^Stack "local" has \d+ configuration problems; nothing was declared:\n {2}- /);
    });
});

describe("example operator keys", () => {
    it("are accepted under the mock runtime and refused for a real preview or up", () => {
        assert.equal(
            loadConfig("prod", stackConfig("prod"), new Set(), { allowExampleKeys: true }).recovery.pgpKeys.length,
            5,
        );
        assert.throws(
            () => loadConfig("prod", stackConfig("prod")),
            (e: ConfigError) =>
                e.problems.length === 1 &&
                e.problems[0].startsWith(
                    "bonito-vault:recoveryPgpKeys entries 0, 1, 2, 3, 4 are the committed example keys, whose private halves were destroyed: replace them with your operators' keys (gpg --export <id> | base64 -w0) before any real preview or up",
                ),
        );
    });
});

describe("rolling-change gate addresses and timeout", () => {
    it("one Docker host: node i at adminAddr's host on hostPortBase+i; several hosts: each host's name", () => {
        const local = loadConfig("local", BASE);
        assert.deepEqual(local.nodeAdminAddrs, [
            "https://127.0.0.1:8200",
            "https://127.0.0.1:8201",
            "https://127.0.0.1:8202",
        ]);
        assert.equal(local.rollingNodeTimeoutSeconds, 600);
        const prod = loadConfig("prod", stackConfig("prod"), new Set(), { allowExampleKeys: true });
        assert.deepEqual(prod.nodeAdminAddrs, [
            "https://vault-0.bonito.internal:8200",
            "https://vault-1.bonito.internal:8200",
            "https://vault-2.bonito.internal:8200",
        ]);
        const one = loadConfig("local", { ...BASE, "bonito-vault:nodes": "1" });
        assert.deepEqual(one.nodeAdminAddrs, [one.adminAddr]);
    });

    it("refuses a list of the wrong length, http with TLS on, and a timeout outside 1m-2h", () => {
        assert.deepEqual(problemsFor("nodeAdminAddrs", "local", { "bonito-vault:nodeAdminAddrs": '["https://a:1"]' }), [
            "bonito-vault:nodeAdminAddrs lists 1 addresses but nodes is 3 (got [https://a:1])",
        ]);
        assert.deepEqual(
            problemsFor("nodeAdminAddrs", "local", {
                "bonito-vault:nodeAdminAddrs": '["http://a:1","https://b:1","https://c:1"]',
            }),
            [
                "bonito-vault:nodeAdminAddrs every address must be an https URL: Vault terminates TLS (tlsMode is not upstream-proxy) (got [http://a:1, https://b:1, https://c:1])",
            ],
        );
        assert.deepEqual(problemsFor("rollingNodeTimeout", "local", { "bonito-vault:rollingNodeTimeout": "30s" }), [
            'bonito-vault:rollingNodeTimeout must be from 1m to 2h (a node restart with auto-unseal takes seconds; less than a minute would stop healthy changes) (got "30s")',
        ]);
        assert.deepEqual(
            problemsFor("rollingNodeTimeout", "local", { "bonito-vault:rollingNodeTimeout": "3h" }).length,
            1,
        );
    });
});

describe("raftPerformanceMultiplier", () => {
    it("defaults to 1 (production timing) and refuses values outside 1-10", () => {
        assert.equal(loadConfig("local", BASE).raftPerformanceMultiplier, 1);
        assert.equal(
            problemsFor("raftPerformanceMultiplier", "local", { "bonito-vault:raftPerformanceMultiplier": "0" }).length,
            1,
        );
        assert.equal(
            loadConfig("local", { ...BASE, "bonito-vault:raftPerformanceMultiplier": "5" }).raftPerformanceMultiplier,
            5,
        );
    });
});
