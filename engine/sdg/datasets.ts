// Training data in the shapes InstructLab's SDG writes, so its trainers (and anything reading its datasets) take ours:
//
//   messages line   {"id": "<uuid>", "messages": [{"role": "system"|"user"|"assistant", "content": …}, …],
//                    "metadata": "<JSON text>", "unmask": false}       (metadata is a JSON-encoded string, as there)
//   skill leaf      node_datasets_<suffix>/<leaf path with / as _>.jsonl: system, user, assistant; the user turn of
//                   a grounded skill is "<context>\n\n<question>"
//   knowledge leaf  …_p07.jsonl (knowledge phase): user "<chunk>\n\n<question>", assistant answer, unmask true (the
//                   sample is learned as a whole, like pretraining text);
//                   …_p10.jsonl (skills phase): the same question with the chunk hidden among other chunks of the
//                   leaf ("RAFT": with probability 0.4 the right chunk and 3 others, else 4 others), unmask false,
//                   followed by the p07 samples
//   metadata        knowledge: {sdg_document, domain, dataset: "document_knowledge_qa"[ + "_raft_p0.4"]}
//
// These are facts of the format; ids here are UUIDs derived from the content (version 5), so a re-run writes the
// same ids and a resumed run can recognise its own samples. Randomness (RAFT's choices) comes from a seeded generator.
import { createHash } from 'node:crypto';

/** 'pretraining' appears in knowledge files written by older InstructLab releases (replay buffers may hold them). */
export type MessageRole = 'system' | 'user' | 'assistant' | 'pretraining';

export interface Message {
  role: MessageRole;
  content: string;
}

export interface MessagesLine {
  id: string;
  messages: Message[];
  /** JSON text, as InstructLab writes it. */
  metadata: string;
  /** True when the whole sample is learned (knowledge phase), not only the assistant's turns. */
  unmask: boolean;
}

export const knowledgeDataset = 'document_knowledge_qa';
/** RAFT: share of skills-phase knowledge samples whose context holds the right chunk. */
export const raftGoldenShare = 0.4;
/** RAFT: chunks shown with each skills-phase knowledge sample. */
export const raftDocuments = 4;

// ---- Names ---------------------------------------------------------------------------------------------------

/** InstructLab's leaf node path: the leaf's folders from the kind folder on, joined with "_". */
export function leafNodePath(leafPath: string): string {
  return leafPath.split(/[\\/]+/).filter(Boolean).join('_');
}

/** InstructLab's run suffix: local time to the second, ISO order, ":" as "_" (2024-03-01T12_00_00). */
export function dateSuffix(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}_${p(date.getMinutes())}_${p(date.getSeconds())}`;
}

export interface RunFileNames {
  nodeDatasets: string;
  skillLeaf(leafPath: string): string;
  knowledgeLeaf(leafPath: string): { p07: string; p10: string };
  knowledgeRecipe: string;
  skillsRecipe: string;
  knowledgeMixed: string;
  skillsMixed: string;
}

/** File names relative to the output folder, as InstructLab names them for a run suffix. */
export function runFileNames(suffix: string): RunFileNames {
  const nodeDatasets = `node_datasets_${suffix}`;
  return {
    nodeDatasets,
    skillLeaf: (leafPath) => `${nodeDatasets}/${leafNodePath(leafPath)}.jsonl`,
    knowledgeLeaf: (leafPath) => ({ p07: `${nodeDatasets}/${leafNodePath(leafPath)}_p07.jsonl`, p10: `${nodeDatasets}/${leafNodePath(leafPath)}_p10.jsonl` }),
    knowledgeRecipe: `knowledge_recipe_${suffix}.yaml`,
    skillsRecipe: `skills_recipe_${suffix}.yaml`,
    knowledgeMixed: `knowledge_train_msgs_${suffix}.jsonl`,
    skillsMixed: `skills_train_msgs_${suffix}.jsonl`,
  };
}

// ---- Ids and randomness --------------------------------------------------------------------------------------

/** Namespace of the version-5 UUIDs Taxonomy Studio gives samples. */
export const sampleIdNamespace = '6f3c1a52-8e0b-4d7a-9c21-5b4e7d9a0f13';

/** RFC 4122 version-5 UUID (SHA-1 of namespace and name). */
export function uuidV5(name: string, namespace = sampleIdNamespace): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A sample's id from what makes it that sample. */
export function sampleId(...parts: string[]): string {
  return uuidV5(parts.join('\u241e'));
}

/** Seeded generator in [0, 1) (mulberry32) for the choices datasets make. */
export function seededRandom(seed: number | string): () => number {
  let a = typeof seed === 'number' ? seed >>> 0 : createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** `k` distinct items of `items` chosen at random, in random order. */
function sampleWithout<T>(items: readonly T[], k: number, random: () => number): T[] {
  return shuffleInPlace([...items], random).slice(0, k);
}

// ---- Samples -------------------------------------------------------------------------------------------------

export interface SkillSample {
  /** The leaf's path from its kind folder ("compositional_skills/writing/freeform/haiku"). */
  leaf: string;
  question: string;
  answer: string;
  /** Grounded skills: the context the question is about. */
  context?: string;
  /** Anything else worth keeping (seed index, scores); stored in the line's metadata. */
  metadata?: Record<string, unknown>;
}

export interface KnowledgeSample {
  leaf: string;
  question: string;
  answer: string;
  /** The document chunk the question was generated from. */
  document: string;
  domain: string;
  metadata?: Record<string, unknown>;
}

/** A skill sample as a messages line: system prompt, user turn (context first for grounded skills), answer. */
export function skillLine(sample: SkillSample, systemPrompt: string): MessagesLine {
  const question = sample.question.trim();
  const user = sample.context?.trim() ? `${sample.context.trim()}\n\n${question}` : question;
  const assistant = sample.answer.trim();
  return {
    id: sampleId('skill', sample.leaf, user, assistant),
    messages: [
      { role: 'system', content: systemPrompt },
      { role: 'user', content: user },
      { role: 'assistant', content: assistant },
    ],
    metadata: JSON.stringify({ leaf: sample.leaf, ...(sample.metadata ?? {}) }),
    unmask: false,
  };
}

function knowledgeMetadata(sample: KnowledgeSample, dataset: string): string {
  return JSON.stringify({ sdg_document: sample.document, domain: sample.domain, dataset, leaf: sample.leaf, ...(sample.metadata ?? {}) });
}

/** Knowledge phase: the chunk and the question as one user turn, learned whole (unmask). */
export function knowledgePhaseLine(sample: KnowledgeSample): MessagesLine {
  const user = `${sample.document}\n\n${sample.question.trim()}`;
  const assistant = sample.answer.trim();
  return {
    id: sampleId('p07', sample.leaf, user, assistant),
    messages: [
      { role: 'user', content: user },
      { role: 'assistant', content: assistant },
    ],
    metadata: knowledgeMetadata(sample, knowledgeDataset),
    unmask: true,
  };
}

/**
 * Skills phase for one knowledge leaf: each sample's question behind a context of `raftDocuments` chunks of the
 * leaf, holding the right one with probability 0.4 (else only others), shuffled; then the knowledge-phase lines.
 * With a single distinct chunk there is nothing to mix in and the context is that chunk.
 */
export function skillsPhaseLines(samples: readonly KnowledgeSample[], seed: number | string): MessagesLine[] {
  const random = seededRandom(`raft\u241e${seed}`);
  const chunks = [...new Set(samples.map((s) => s.document))];
  const dataset = `${knowledgeDataset}_raft_p${raftGoldenShare}`;
  const raft = samples.map((sample): MessagesLine => {
    const others = chunks.filter((c) => c !== sample.document);
    let docs: string[];
    if (others.length === 0) docs = [sample.document];
    else if (random() < raftGoldenShare) docs = [...sampleWithout(others, raftDocuments - 1, random), sample.document];
    else docs = sampleWithout(others, raftDocuments, random);
    shuffleInPlace(docs, random);
    const context = docs.map((d) => `Document:\n${d}\n\n`).join('\n');
    const user = `${context}\n\n${sample.question.trim()}`;
    const assistant = sample.answer.trim();
    return {
      id: sampleId('p10', sample.leaf, user, assistant),
      messages: [
        { role: 'user', content: user },
        { role: 'assistant', content: assistant },
      ],
      metadata: knowledgeMetadata(sample, dataset),
      unmask: false,
    };
  });
  return [...raft, ...samples.map(knowledgePhaseLine)];
}

// ---- Reading lines back ---------------------------------------------------------------------------------------

const allowedKeys = new Set(['id', 'messages', 'metadata', 'unmask']);
const roles = new Set(['system', 'user', 'assistant', 'pretraining']);

/**
 * A JSON value from a messages file (ours, InstructLab's, a replay buffer) as a MessagesLine: other keys move into
 * metadata, metadata becomes JSON text, unmask defaults to false, a missing id is derived from the content.
 * Returns a sentence saying what is wrong when it is not a messages line.
 */
export function toMessagesLine(value: unknown): MessagesLine | string {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const o = value as Record<string, unknown>;
  if (!Array.isArray(o.messages) || o.messages.length === 0) return 'no "messages" array';
  const messages: Message[] = [];
  for (const [i, m] of o.messages.entries()) {
    if (!m || typeof m !== 'object') return `messages[${i}] is not an object`;
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !roles.has(role)) return `messages[${i}].role is ${JSON.stringify(role)}, not system, user, assistant or pretraining`;
    if (typeof content !== 'string') return `messages[${i}].content is not a string`;
    messages.push({ role: role as MessageRole, content });
  }
  let metadata: Record<string, unknown> = {};
  if (typeof o.metadata === 'string') {
    try {
      const parsed = JSON.parse(o.metadata) as unknown;
      metadata = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
    } catch {
      return '"metadata" is a string that is not JSON';
    }
  } else if (o.metadata && typeof o.metadata === 'object' && !Array.isArray(o.metadata)) metadata = { ...(o.metadata as Record<string, unknown>) };
  for (const [k, v] of Object.entries(o)) if (!allowedKeys.has(k)) metadata[k] = v;
  const id = typeof o.id === 'string' && o.id ? o.id : sampleId('line', JSON.stringify(messages));
  return { id, messages, metadata: JSON.stringify(metadata), unmask: o.unmask === true };
}

/** The same line with the system prompt set: every system turn gets it, or one is put first. */
export function withSystemPrompt(line: MessagesLine, systemPrompt: string): MessagesLine {
  let has = false;
  const messages = line.messages.map((m) => {
    if (m.role !== 'system') return m;
    has = true;
    return { role: m.role, content: systemPrompt };
  });
  if (!has) messages.unshift({ role: 'system', content: systemPrompt });
  return { ...line, messages };
}

/** InstructLab leaves out of a mixed file any line with an empty turn other than the system's. */
export function hasEmptyTurn(line: MessagesLine): boolean {
  return line.messages.some((m) => m.role !== 'system' && !m.content);
}
