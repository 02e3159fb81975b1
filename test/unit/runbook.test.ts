/**
 * docs/runbook.md against the program, for the committed `local` stack (Pulumi.local.yaml).
 *
 * Proves: every Docker name the runbook tells an operator to type (`docker <verb> <name>`, and every
 * `<clusterName>-<stack>-…` or `bonito-vault-local-…` mention) renders, with the stack's values, to a
 * container, volume or network the program declares: the local stack's census (test/census/local.json, the
 * program's own declaration under mocks, kept equal to the code by test/mocks/census-local.test.ts), or, for a
 * feature `local` does not run (bundled monitoring, the snapshot uploader), another committed variant's census;
 * the runbook's `<clusterName>-<stack>-<node>` convention is what the naming function (components/naming.ts
 * dockerName, components/plan.ts) produces; every alert the rendered rules hold has a runbook anchor that
 * resolves to a heading (GitHub's slug rules), and every link in the runbook, and every link or quoted section
 * title pointing into it from the docs and the code, resolves; each section reads Symptom → Steps → Confirm;
 * the table of contents lists every section and every alert, and names the same drills as the sections; each
 * drill's test file exists and holds the quoted test name; `npm run` scripts, `pulumi stack output` names and
 * config keys exist.
 * Does not prove: that the steps work (the real tier's drills do that).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { loadConfig } from "../../components/config";
import { renderAlertRules } from "../../components/monitoring/alertRules";
import { securityRules } from "../../components/monitoring/securityRules";
import { dockerName } from "../../components/naming";
import { planPlatform } from "../../components/plan";
import { NAMES } from "../../components/settings/acl";

const ROOT = path.join(__dirname, "..", "..");
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), "utf8");
const RUNBOOK = read("docs/runbook.md");
/** The runbook with line breaks and indentation folded into single spaces (inline code wraps lines). */
const FLAT = RUNBOOK.replace(/\s+/g, " ");

/** Pulumi.local.yaml's plain values, as `pulumi config` hands them to the program. */
function committedConfig(stack: string): Record<string, string> {
    const doc = parse(read(`Pulumi.${stack}.yaml`)) as { config?: Record<string, unknown> };
    return Object.fromEntries(
        Object.entries(doc.config ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
}

const cfg = loadConfig("local", committedConfig("local"));
const plan = planPlatform(cfg);

// ---- markdown: headings and GitHub's anchors ----

interface Heading {
    level: number;
    text: string;
    slug: string;
    /** The lines under it up to the next heading of any level. */
    body: string;
}

/** GitHub's heading anchor: lower case, markup and punctuation dropped (not `-` or `_`), spaces to `-`. */
function githubSlug(text: string): string {
    return text
        .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
        .replace(/ /g, "-");
}

function headings(md: string): Heading[] {
    const out: Heading[] = [];
    const seen = new Map<string, number>();
    let fenced = false;
    for (const line of md.split("\n")) {
        if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
        const m = fenced ? null : /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
        if (!m) {
            if (out.length) out[out.length - 1].body += line + "\n";
            continue;
        }
        const base = githubSlug(m[2]);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        out.push({ level: m[1].length, text: m[2], slug: n ? `${base}-${n}` : base, body: "" });
    }
    return out;
}

const HEADINGS = headings(RUNBOOK);
const SLUGS = new Set(HEADINGS.map((h) => h.slug));
const slugsOf = (rel: string) => new Set(headings(read(rel)).map((h) => h.slug));

// ---- what the program declares ----

interface Census {
    variant: string;
    resources: { type: string; inputs?: { name?: unknown } }[];
    outputs: Record<string, unknown>;
}
const CENSUS_DIR = path.join(ROOT, "test", "census");
const CENSUSES: Census[] = fs
    .readdirSync(CENSUS_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(path.join(CENSUS_DIR, f), "utf8")) as Census);
const DOCKER_TYPES = new Set([
    "docker:index/container:Container",
    "docker:index/volume:Volume",
    "docker:index/network:Network",
]);

/** One stack as the runbook's placeholders see it, and the Docker names its census declares. */
interface Declared {
    variant: string;
    clusterName: string;
    stack: string;
    nodes: string[];
    names: Set<string>;
}
function declared(c: Census): Declared {
    const names = new Set(
        c.resources
            .filter((r) => DOCKER_TYPES.has(r.type) && typeof r.inputs?.name === "string")
            .map((r) => r.inputs!.name as string),
    );
    // Census variants are the committed stacks (prod-azure etc. are prod moved to another cloud).
    const stack = c.variant.split("-")[0];
    return { variant: c.variant, clusterName: cfg.clusterName, stack, nodes: c.outputs.nodeNames as string[], names };
}
const LOCAL = declared(CENSUSES.find((c) => c.variant === "local")!);
const OTHERS = CENSUSES.filter((c) => c.variant !== "local").map(declared);

const PLACEHOLDER = /<[^<>]+>/g;
const KNOWN_PLACEHOLDERS = new Set(["<clusterName>", "<stack>", "<node>"]);

/** A runbook name with the stack's values in place of its placeholders: one name per node for `<node>`. */
function render(name: string, s: Pick<Declared, "clusterName" | "stack" | "nodes">): string[] {
    const fixed = name.replaceAll("<clusterName>", s.clusterName).replaceAll("<stack>", s.stack);
    return fixed.includes("<node>") ? s.nodes.map((n) => fixed.replaceAll("<node>", n)) : [fixed];
}

/** Where a runbook name is declared: "local", another variant's name, or undefined (nowhere). */
function whereDeclared(name: string): string | undefined {
    for (const d of [LOCAL, ...OTHERS]) {
        // `<clusterName>-local-…` names a local-only object: only the local stack can declare it.
        if (name.includes("-local-") && d.stack !== "local") continue;
        if (render(name, d).every((n) => d.names.has(n))) return d.variant;
    }
    return undefined;
}

/** Every Docker name the runbook mentions: placeholder forms and concrete names of the local stack. */
function runbookNames(): string[] {
    const forms = [...FLAT.matchAll(/<clusterName>[A-Za-z0-9<>._-]*/g)].map((m) => m[0]);
    const base = plan.naming.base;
    const concrete = [...FLAT.matchAll(new RegExp(`(?<![\\w-])${base}(?:-[a-z0-9._]+)+`, "g"))].map((m) => m[0]);
    // A trailing `-` is a prefix mention (`<clusterName>-<stack>-…`), not a name.
    return [...new Set([...forms, ...concrete])].filter((n) => !n.endsWith("-"));
}

/** Shell words of one command, single and double quotes kept together. */
function words(cmd: string): string[] {
    return [...cmd.matchAll(/'[^']*'|"[^"]*"|[^\s'"]+/g)].map((m) => m[0]);
}

const VALUED: Record<string, Set<string>> = {
    inspect: new Set(["-f", "--format"]),
    "volume inspect": new Set(["-f", "--format"]),
    exec: new Set(["-u", "--user", "-e", "--env", "-w", "--workdir"]),
    logs: new Set(["-n", "--tail", "--since", "--until"]),
};

/** Each `docker <verb> … <object>` in the runbook's code: the verb and the object it names (undefined: none). */
function dockerCommands(): { command: string; verb: string; object?: string }[] {
    const out: { command: string; verb: string; object?: string }[] = [];
    const re = /\bdocker (volume (?:rm|inspect)|logs|exec|stop|start|restart|rm|inspect|kill|cp)\b/g;
    for (const m of FLAT.matchAll(re)) {
        // The command ends where its code span, quoted argument, pipe or sub-shell does.
        const rest = FLAT.slice(m.index + m[0].length).split(/`|"|\||;|&&|\)|2>&1/)[0];
        const ws = words(rest);
        const valued = VALUED[m[1]] ?? new Set<string>();
        let object: string | undefined;
        for (let i = 0; i < ws.length; i++) {
            if (ws[i].startsWith("-")) {
                if (valued.has(ws[i])) i++;
                continue;
            }
            object = ws[i].replace(/[.,:;]+$/, "");
            if (m[1] === "cp") object = object.split(":")[0];
            break;
        }
        out.push({ command: `docker ${m[1]}${rest}`.trim(), verb: m[1], object });
    }
    return out;
}

// ---- the alerts as the program renders them for the local stack ----

function localAlertRules() {
    const notAfter = Math.floor(Date.UTC(2030, 0, 1) / 1000);
    return renderAlertRules({
        security: securityRules({ sensitivePaths: cfg.monitoring.sensitivePaths, snapshotRoles: [NAMES.snapshotRole] }),
        certificateNotAfter: plan.servesTls ? Object.fromEntries(plan.nodes.map((n) => [n.name, notAfter])) : {},
        certificateWarnSeconds: cfg.tls.earlyRenewalHours * 3600,
        caNotAfter: plan.servesTls ? { "ca-a": notAfter } : {},
        backupIntervalSeconds: cfg.backup.scheduleSeconds,
        // local has no bucket: VaultBackupStale reads the audit trail (monitoring.ts renderMonitoringFiles).
        backupUpload: undefined,
        auditShipping: cfg.auditShipping.enabled
            ? { maxDelaySeconds: cfg.auditShipping.maxDelayMinutes * 60, nodes: plan.nodes.map((n) => n.name) }
            : undefined,
    }).groups.flatMap((g) => g.rules);
}
const RULES = localAlertRules();
const ALERTS = [...new Set(RULES.map((r) => r.alert))];

// ---- sections ----

const CONTENTS = HEADINGS.find((h) => h.text === "Contents")!;
const ALERTS_HEADING = HEADINGS.findIndex((h) => h.text === "Alerts");
/** A section: every `###`, and each `##` with no `###` of its own (Contents aside). */
const SECTIONS = HEADINGS.filter((h, i) => {
    if (h.level >= 3) return true;
    if (h.level !== 2 || h === CONTENTS) return false;
    const next = HEADINGS[i + 1];
    return !next || next.level <= 2;
});
const isAlert = (h: Heading) => HEADINGS.indexOf(h) > ALERTS_HEADING && ALERTS.includes(h.text);
const flat = (s: string) => s.replace(/\s+/g, " ");
const testFiles = (s: string) => new Set([...s.matchAll(/`(test\/[\w./-]+\.test\.ts)`/g)].map((m) => m[1]));

describe("docs/runbook.md names what the program declares (local stack)", () => {
    it("the runbook's name convention is the naming function's: <clusterName>-<stack>[-<node>][-…]", () => {
        assert.equal(cfg.stack, "local");
        assert.equal(plan.naming.base, `${cfg.clusterName}-${cfg.stack}`);
        assert.equal(dockerName(cfg, "snapshot-agent"), `${cfg.clusterName}-${cfg.stack}-snapshot-agent`);
        assert.equal(plan.naming.docker("x"), dockerName(cfg, "x"));
        for (const n of plan.nodes) {
            assert.deepEqual(
                [n.containerName, n.dataVolumeName, n.auditVolumeName],
                render(
                    "<clusterName>-<stack>-<node>|<clusterName>-<stack>-<node>-data|<clusterName>-<stack>-<node>-audit",
                    {
                        ...cfg,
                        nodes: [n.name],
                    },
                )[0].split("|"),
            );
            // The census is the same program: the plan's names are among what it declares.
            for (const name of [n.containerName, n.dataVolumeName, n.auditVolumeName])
                assert.ok(LOCAL.names.has(name), `${name} is not in test/census/local.json: run npm run census`);
        }
        assert.deepEqual(LOCAL.nodes, cfg.nodeNames);
        assert.ok(LOCAL.names.has(plan.dockerHosts.networkName));
        for (const d of OTHERS) assert.ok(d.names.has(dockerName(d)), `${d.variant}: its network is ${dockerName(d)}`);
    });

    it("uses only <clusterName>, <stack> and <node> in Docker names, spelled so", () => {
        const bad = runbookNames().flatMap((n) =>
            (n.match(PLACEHOLDER) ?? []).filter((p) => !KNOWN_PLACEHOLDERS.has(p)).map((p) => `${n} (${p})`),
        );
        const otherSpellings = [...FLAT.matchAll(/<(?!clusterName>)[A-Za-z]+>-<stack>/g)].map((m) => m[0]);
        assert.deepEqual([...bad, ...otherSpellings], []);
    });

    it("every Docker name it mentions is one the program declares", () => {
        const names = runbookNames();
        assert.ok(names.length >= 15, `found only ${names.length} names: is the extraction broken?`);
        const missing = names.filter((n) => !whereDeclared(n)).map((n) => `${n} → ${render(n, LOCAL).join(", ")}`);
        assert.deepEqual(missing, [], `the local stack declares: ${[...LOCAL.names].sort().join(", ")}`);
        // The names that matter most at 3 a.m. are those of the stack the drills run: local itself.
        for (const n of [
            "<clusterName>-<stack>-<node>",
            "<clusterName>-<stack>-snapshot-agent",
            "<clusterName>-<stack>-<node>-audit-shipper",
        ])
            assert.equal(whereDeclared(n), "local", n);
    });

    it("every `docker <verb>` names a declared object (or a shell variable), never a bare node name", () => {
        const cmds = dockerCommands();
        assert.ok(cmds.filter((c) => c.object).length >= 20, "docker commands not found: is the extraction broken?");
        const wrong = cmds
            .filter((c) => c.object !== undefined && !/^"?\$/.test(c.object))
            .filter((c) => {
                const o = c.object!;
                if (o.startsWith("<clusterName>")) return !whereDeclared(o);
                return !LOCAL.names.has(o);
            })
            .map((c) => c.command);
        assert.deepEqual(wrong, []);
    });
});

describe("docs/runbook.md anchors and references resolve", () => {
    it("every alert rule rendered for the local stack points at a heading of the runbook", () => {
        assert.ok(ALERTS.length >= 17, `only ${ALERTS.length} alerts rendered`);
        const unresolved = RULES.map((r) => r.annotations.runbook)
            .filter((u, i, all) => all.indexOf(u) === i)
            .filter((u) => {
                const [file, anchor] = u.split("#");
                return file !== "docs/runbook.md" || !SLUGS.has(anchor);
            });
        assert.deepEqual(unresolved, []);
    });

    it("the rendered rules are the program's: the same alerts and runbook URLs as the local census", () => {
        const census = CENSUSES.find((c) => c.variant === "local")!.outputs.monitoringAlertRules as string;
        const fromCensus = (JSON.parse(census) as ReturnType<typeof renderAlertRules>).groups
            .flatMap((g) => g.rules)
            .map((r) => `${r.alert} ${r.annotations.runbook}`);
        assert.deepEqual(
            [...new Set(RULES.map((r) => `${r.alert} ${r.annotations.runbook}`))].sort(),
            [...new Set(fromCensus)].sort(),
        );
    });

    it("every link in the runbook resolves: its own headings, other docs and their headings", () => {
        const broken: string[] = [];
        for (const m of RUNBOOK.matchAll(/\]\(([^)\s]+)\)/g)) {
            const target = m[1];
            if (/^https?:/.test(target)) continue;
            const [file, anchor] = target.split("#");
            const rel = file ? path.posix.join("docs", file) : "docs/runbook.md";
            if (!fs.existsSync(path.join(ROOT, rel))) broken.push(`${target} (no ${rel})`);
            else if (anchor !== undefined && !slugsOf(rel).has(anchor))
                broken.push(`${target} (no heading #${anchor})`);
        }
        assert.deepEqual(broken, []);
    });

    it("names no README section: what it cites moved to docs/", () => {
        assert.deepEqual(
            [...FLAT.matchAll(/README[^.;)]*/g)].map((m) => m[0]),
            [],
        );
    });

    it("links into the runbook from README.md and docs/ resolve", () => {
        const files = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).map((f) => `docs/${f}`)];
        const broken = files.flatMap((f) =>
            [...read(f).matchAll(/\(((?:docs\/)?runbook\.md)#([^)\s]+)\)/g)]
                .filter((m) => !SLUGS.has(m[2]))
                .map((m) => `${f}: ${m[0]}`),
        );
        assert.deepEqual(broken, []);
    });

    it('section titles the code quotes (docs/runbook.md "…") start a heading', () => {
        const quoted: string[] = [];
        for (const dir of ["components", "scripts"])
            for (const f of fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[]) {
                if (!f.endsWith(".ts")) continue;
                for (const m of read(path.join(dir, f)).matchAll(/runbook(?:\.md)?,? \\?"([^"\\]+)\\?"/g))
                    quoted.push(`${dir}/${f}: ${m[1]}`);
            }
        assert.ok(quoted.length >= 5, `found ${quoted.length}`);
        const titles = HEADINGS.map((h) => h.text);
        assert.deepEqual(
            quoted.filter((q) => !titles.some((t) => t.startsWith(q.split(": ").slice(1).join(": ")))),
            [],
        );
    });
});

describe("docs/runbook.md structure: symptom, steps, confirm; contents lists every section, alert and drill", () => {
    it("each section starts with its symptom, then the steps, then how to confirm", () => {
        assert.ok(SECTIONS.length >= 40, `only ${SECTIONS.length} sections`);
        const wrong = SECTIONS.filter((s) => {
            const b = s.body.trim();
            const steps = b.indexOf("**Steps");
            const confirm = b.indexOf("**Confirm.**");
            return !b.startsWith("**Symptom.**") || steps < 0 || confirm < steps;
        }).map((s) => s.text);
        assert.deepEqual(wrong, []);
    });

    it("every alert the rules render has its section under Alerts, headed by its name", () => {
        const sections = new Set(SECTIONS.filter(isAlert).map((s) => s.text));
        assert.deepEqual(
            ALERTS.filter((a) => !sections.has(a)),
            [],
        );
    });

    it("the contents link every section and every alert", () => {
        const linked = new Set([...CONTENTS.body.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]));
        const missing = [...SECTIONS.map((s) => s.slug), ...ALERTS.map((a) => a.toLowerCase())].filter(
            (s) => !linked.has(s),
        );
        assert.deepEqual(missing, []);
    });

    it("the contents name each section's drills (or say it is not drilled yet), as the section does", () => {
        const toc = flat(CONTENTS.body);
        const wrong: string[] = [];
        for (const s of SECTIONS.filter((h) => !isAlert(h))) {
            // The contents entry: from the section's link to the next list item.
            const start = toc.indexOf(`](#${s.slug})`);
            const end = toc.indexOf(" - [", start + 1);
            const entry = toc.slice(start, end < 0 ? undefined : end);
            const drilled = flat(s.body).match(/\*\*Drilled by\*\*(.*)$/)?.[1] ?? "";
            const inToc = testFiles(entry);
            const inSection = testFiles(drilled);
            if ([...inToc].sort().join() !== [...inSection].sort().join())
                wrong.push(
                    `${s.text}: contents ${[...inToc].join(", ") || "-"}; section ${[...inSection].join(", ") || "-"}`,
                );
            if (!inToc.size && !entry.includes("not drilled yet")) wrong.push(`${s.text}: say "not drilled yet"`);
            if (inToc.size && !entry.includes("drilled by")) wrong.push(`${s.text}: say "drilled by"`);
        }
        assert.deepEqual(wrong, []);
    });

    it("each named test file exists and holds the quoted test name", () => {
        const files = testFiles(FLAT);
        assert.ok(files.size >= 8);
        const wrong = [...files].filter((f) => !fs.existsSync(path.join(ROOT, f)));
        for (const m of FLAT.matchAll(/`(test\/[\w./-]+\.test\.ts)` \("([^"]+)"/g))
            if (fs.existsSync(path.join(ROOT, m[1])) && !read(m[1]).includes(m[2])) wrong.push(`${m[1]}: "${m[2]}"`);
        assert.deepEqual(wrong, []);
    });
});

describe("docs/runbook.md commands and keys exist", () => {
    const configKeys = new Set(
        Object.keys((parse(read("Pulumi.yaml")) as { config: Record<string, unknown> }).config).map((k) =>
            k.replace(/^bonito-vault:/, ""),
        ),
    );
    const outputs = new Set(CENSUSES.flatMap((c) => Object.keys(c.outputs)));

    it("every `npm run` script is in package.json", () => {
        const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
        const used = [...FLAT.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
        assert.ok(used.length >= 5);
        assert.deepEqual(
            used.filter((s) => !(s in scripts)),
            [],
        );
    });

    it("every `pulumi stack output <name>` is a stack output", () => {
        const used = [...FLAT.matchAll(/pulumi stack output ([A-Za-z]+)/g)].map((m) => m[1]);
        assert.ok(used.length >= 5);
        assert.deepEqual(
            used.filter((o) => !outputs.has(o)),
            [],
        );
    });

    it("every `key: value` and camelCase identifier is a config key, a stack output, or named in the code", () => {
        const source = ["components", "scripts", "test/conformance"]
            .flatMap((d) =>
                (fs.readdirSync(path.join(ROOT, d), { recursive: true }) as string[])
                    .filter((f) => f.endsWith(".ts"))
                    .map((f) => read(path.join(d, f))),
            )
            .join("\n");
        // `cloud: local`-style settings: a config key, or a resource input the code sets (`wait: false`).
        const settings = [...FLAT.matchAll(/`([a-z][A-Za-z0-9]*): [^`]+`/g)].map((m) => m[1]);
        assert.deepEqual(
            settings.filter((k) => !configKeys.has(k) && !source.includes(`${k}:`)),
            [],
        );
        const ids = [...new Set([...FLAT.matchAll(/`([a-z][a-z0-9]*[A-Z][A-Za-z0-9]*)`/g)].map((m) => m[1]))];
        assert.deepEqual(
            ids.filter((i) => !configKeys.has(i) && !outputs.has(i) && !source.includes(i)),
            [],
        );
    });
});
