// Shared by the generate tests: a copy of the example taxonomy beside its documents repository in a temp folder, a
// scripted teacher for test/support/openaiServer.ts that answers every SDG step with valid JSON except where its
// rules say otherwise (low scores, unfaithful answers, garbage, copies of a seed question), and a tally of what it
// decided, which is what the run's report must add up to.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChatHandler, ChatRequest } from '../../support/openaiServer';

export const examples = resolve(__dirname, '../../../examples');

/** taxonomy/ and knowledge-docs-repo/ side by side, as the leaves' relative document.repo expects. */
export function copyExample(prefix: string): { dir: string; taxonomy: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(examples, 'taxonomy'), join(dir, 'taxonomy'), { recursive: true });
  cpSync(join(examples, 'knowledge-docs-repo'), join(dir, 'knowledge-docs-repo'), { recursive: true });
  return { dir, taxonomy: join(dir, 'taxonomy') };
}

export interface Tally {
  /** Verdicts that end a unit, by the reason the report gives. */
  drops: Record<string, number>;
  /** Questions served that copy a seed question (each must be dropped as an exact duplicate). */
  seedCopies: number;
  chats: number;
}

function schemaName(r: ChatRequest): string | undefined {
  return (r.responseFormat as { json_schema?: { name?: string } } | undefined)?.json_schema?.name;
}

/** The number a generated text carries ("... #123 ..."), which the judges' rules key on. */
function numberIn(text: string): number | undefined {
  const m = /#(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

const vocabulary = (
  'comet nebula telescope dome mirror filter camera galaxy planet moon archive volunteer eyepiece mount tracking ' +
  'spectrum cluster meteor eclipse aurora horizon zenith parallax binary dwarf giant quasar pulsar transit orbit ' +
  'shutter focus dew heater battery schedule logbook chart lens prism grating'
).split(' ');

/** Eight words chosen by the number: texts of different numbers share almost no word sequence (no near duplicates). */
function words(n: number): string {
  return Array.from({ length: 8 }, (_, i) => vocabulary[(Math.imul(n + 1, 2654435761 + i * 40503) >>> 0) % vocabulary.length]).join(' ');
}

function firstSeedQuestion(prompt: string): string | undefined {
  return /\[Question\]\n([\s\S]*?)\n\[End of Question\]/.exec(prompt)?.[1];
}

/**
 * Rules, by the number n a generated text carries (the call's sampling seed, so each unit gets its own):
 *   question / context / qa    n % 11 == 4 (question steps only): the first example's question (a seed copy)
 *   question_rating            n % 5 == 0 → 0 (low quality)
 *   answer                     n % 7 == 3 → text that is not JSON
 *   pair_rating                n % 5 == 1 → 1 (low quality), else 3
 *   faithfulness               n % 4 == 2 → false
 *   relevance                  n % 6 == 5 → 1
 */
export function scriptedTeacher(tally: Tally): ChatHandler {
  const drop = (reason: string) => (tally.drops[reason] = (tally.drops[reason] ?? 0) + 1);
  return (r) => {
    tally.chats++;
    const name = schemaName(r);
    const user = r.messages.at(-1)?.content ?? '';
    const seed = Number(r.body.seed ?? 0);
    const n = numberIn(user);
    switch (name) {
      case undefined:
        return 'OK';
      case 'question': {
        if (seed % 11 === 4 && !user.includes('[Context]')) {
          const copy = firstSeedQuestion(user);
          if (copy) {
            tally.seedCopies++;
            return JSON.stringify({ question: copy });
          }
        }
        return JSON.stringify({ question: `Question #${seed}: ${words(seed)}?` });
      }
      case 'context':
        return JSON.stringify({ context: `Context #${seed}. ${words(seed + 1)}.` });
      case 'question_answer':
        return JSON.stringify({ question: `Question #${seed}: ${words(seed)}?`, answer: `Answer #${seed}: ${words(seed + 2)}.` });
      case 'question_rating':
        if (n !== undefined && n % 5 === 0) {
          drop('question judged low quality');
          return JSON.stringify({ explanation: 'vague', score: 0 });
        }
        return JSON.stringify({ explanation: 'clear', score: 1 });
      case 'answer':
        if (n !== undefined && n % 7 === 3) {
          drop('teacher returned invalid JSON');
          return 'Sure! Here is my answer, without any JSON.';
        }
        return JSON.stringify({ answer: `Answer to #${n ?? 'seed'}: a clear response in the requested format.` });
      case 'pair_rating':
        if (n !== undefined && n % 5 === 1) {
          drop('answer judged low quality');
          return JSON.stringify({ explanation: 'wrong', score: 1 });
        }
        return JSON.stringify({ explanation: 'good', score: 3 });
      case 'faithfulness':
        if (n !== undefined && n % 4 === 2) {
          drop('answer judged unfaithful to the document');
          return JSON.stringify({ explanation: 'adds facts', faithful: false });
        }
        return JSON.stringify({ explanation: 'supported', faithful: true });
      case 'relevance':
        if (n !== undefined && n % 6 === 5) {
          drop('answer judged irrelevant to the question');
          return JSON.stringify({ explanation: 'partial', score: 1 });
        }
        return JSON.stringify({ explanation: 'on topic', score: 2 });
      default:
        throw new Error(`unexpected schema ${name}`);
    }
  };
}

export function newTally(): Tally {
  return { drops: {}, seedCopies: 0, chats: 0 };
}
