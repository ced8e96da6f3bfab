import type { LoadedContract } from '../contract.js';
import type { HintReport } from '../hints.js';

export interface HintsUsed {
  schema: 'skill-eval/hints-used@1';
  /** Anchors (distinctive tokens of the target's eval commands) that the contract's commands use. */
  used_anchors: string[];
  anchors: string[];
  commands: { stage: string; command: string; from: string; hint_class?: string | undefined }[];
}

/** Which mined hints the contract's commands came from: a matching hint's file:line, else the contract. */
export function hintsUsed(contract: LoadedContract, hints: HintReport): HintsUsed {
  const commands: HintsUsed['commands'] = [];
  const texts: string[] = [];
  const normalise = (text: string): string => text.replace(/\s+/g, ' ').trim();
  const stages = contract.contract.stages;
  for (const [stage, spec] of Object.entries(stages)) {
    if (!spec) continue;
    if (spec.driver !== 'command') {
      texts.push(JSON.stringify(spec.with ?? {}));
      commands.push({ stage, command: `driver: ${spec.driver}`, from: `${contract.file} stages.${stage}` });
      continue;
    }
    spec.commands.forEach((command, index) => {
      texts.push(command.run);
      const hint = hints.hints.find(
        (h) =>
          normalise(command.run).includes(normalise(h.command)) ||
          normalise(h.detail ?? '\0') === normalise(command.run),
      );
      commands.push({
        stage,
        command: command.run,
        from: hint ? `${hint.file}:${hint.line}` : `${contract.file} stages.${stage}.commands[${index}]`,
        hint_class: hint?.class,
      });
    });
  }
  const all = texts.join('\n');
  return {
    schema: 'skill-eval/hints-used@1',
    used_anchors: hints.anchors.filter((anchor) => all.includes(anchor)),
    anchors: hints.anchors,
    commands,
  };
}
