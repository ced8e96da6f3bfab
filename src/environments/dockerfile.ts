/** The few Dockerfile instructions the local provider reproduces (and the Docker provider inspects for build contexts). */
export interface DockerfileCopy {
  instruction: 'COPY' | 'ADD';
  sources: string[];
  destination: string;
  /** `--from=stage` copies come from another image: not reproducible locally. */
  fromStage?: string | undefined;
  /** WORKDIR in force at this instruction (relative destinations resolve against it). */
  workdir?: string | undefined;
  line: number;
}

export interface DockerfileSummary {
  /** The last WORKDIR (absolute), or undefined. */
  workdir?: string | undefined;
  copies: DockerfileCopy[];
  env: Record<string, string>;
  /** Instructions the local provider cannot reproduce (RUN, …), for a note. */
  ignored: string[];
}

/** Joins continuation lines and drops comments; returns [line number, text] pairs. */
function logicalLines(text: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  let buffer = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (buffer === '' && (line === '' || line.startsWith('#'))) return;
    if (buffer === '') start = index + 1;
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1)} `;
      return;
    }
    buffer += line;
    out.push([start, buffer.trim()]);
    buffer = '';
  });
  if (buffer.trim() !== '') out.push([start, buffer.trim()]);
  return out;
}

function splitArgs(rest: string): string[] {
  const trimmed = rest.trim();
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // fall through to whitespace splitting
    }
  }
  return trimmed.split(/\s+/).filter(Boolean);
}

export function parseDockerfile(text: string): DockerfileSummary {
  const summary: DockerfileSummary = { copies: [], env: {}, ignored: [] };
  for (const [line, content] of logicalLines(text)) {
    const match = /^(\w+)\s+(.*)$/s.exec(content);
    if (!match) continue;
    const instruction = match[1]!.toUpperCase();
    const rest = match[2]!;
    if (instruction === 'WORKDIR') {
      const dir = rest.trim();
      summary.workdir = dir.startsWith('/') ? dir : `${summary.workdir ?? ''}/${dir}`.replace(/\/+/g, '/');
    } else if (instruction === 'COPY' || instruction === 'ADD') {
      const args = splitArgs(rest);
      const flags = args.filter((a) => a.startsWith('--'));
      const paths = args.filter((a) => !a.startsWith('--'));
      if (paths.length < 2) continue;
      const fromFlag = flags.find((f) => f.startsWith('--from='));
      summary.copies.push({
        instruction,
        sources: paths.slice(0, -1),
        destination: paths.at(-1)!,
        fromStage: fromFlag?.slice('--from='.length),
        workdir: summary.workdir,
        line,
      });
    } else if (instruction === 'ENV') {
      const args = rest.trim();
      if (/^[\w.-]+=/.test(args)) {
        for (const m of args.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
          summary.env[m[1]!] = m[2]!.startsWith('"') ? m[2]!.slice(1, -1) : m[2]!;
        }
      } else {
        const [key, ...value] = args.split(/\s+/);
        if (key) summary.env[key] = value.join(' ');
      }
    } else if (
      instruction !== 'FROM' &&
      instruction !== 'LABEL' &&
      instruction !== 'ARG' &&
      instruction !== 'USER' &&
      instruction !== 'CMD' &&
      instruction !== 'ENTRYPOINT' &&
      instruction !== 'EXPOSE'
    ) {
      summary.ignored.push(`${instruction} (line ${line})`);
    }
  }
  return summary;
}
