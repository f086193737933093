// The prompts of each SDG step, written from the LAB method's description (Sudalairaj et al., 2024, and the
// InstructLab SDG docs): the teacher sees the leaf's task (or document) and its seed examples, writes one new item per
// call, and judges items on a small fixed scale. Every prompt ends by naming the JSON it expects, so servers that
// only take the schema as a hint still answer in shape. Pure functions: same inputs, same messages.
import type { ChatMessage } from '../teachers/teacher';

export interface SeedPair {
  question: string;
  answer: string;
  /** Grounded skills and knowledge: the passage the pair is about. */
  context?: string;
}

const system =
  'You are a careful teacher model that writes and reviews training data for a smaller language model. ' +
  'Follow the instructions exactly and answer with a single JSON object and nothing else.';

function chat(user: string): ChatMessage[] {
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

function block(title: string, body: string): string {
  return `[${title}]\n${body.trim()}\n[End of ${title}]`;
}

function examples(seeds: readonly SeedPair[], withContext: boolean): string {
  return seeds
    .map((s, i) => {
      const parts = [`Example ${i + 1}`];
      if (withContext && s.context) parts.push(block('Context', s.context));
      parts.push(block('Question', s.question), block('Answer', s.answer));
      return parts.join('\n');
    })
    .join('\n\n');
}

// ---- Skills -----------------------------------------------------------------------------------------------------

/** Freeform: a new question for the task, in the manner of the examples but not a copy of any. */
export function freeformQuestionPrompt(task: string, seeds: readonly SeedPair[]): ChatMessage[] {
  return chat(
    [
      `Task: ${task.trim()}`,
      'Here are examples of requests for this task with good responses:',
      examples(seeds, false),
      'Write ONE new request for the same task. It must be self-contained, differ in topic and wording from every',
      'example, be something a user would really ask, and be answerable by a text assistant without tools.',
      'Answer as {"question": "<the new request>"}.',
    ].join('\n\n'),
  );
}

/** Grounded: a new context of the same kind as the examples' contexts. */
export function groundedContextPrompt(task: string, seeds: readonly SeedPair[]): ChatMessage[] {
  return chat(
    [
      `Task: ${task.trim()}`,
      'Each example below has a context the request is about:',
      examples(seeds, true),
      'Write ONE new context of the same kind, format and length as the example contexts, about a different subject,',
      'realistic and complete enough that requests of this task can be answered from it alone.',
      'Answer as {"context": "<the new context>"}.',
    ].join('\n\n'),
  );
}

/** Grounded: a new request about a given context. */
export function groundedQuestionPrompt(task: string, seeds: readonly SeedPair[], context: string): ChatMessage[] {
  return chat(
    [
      `Task: ${task.trim()}`,
      'Examples of requests about a context, with responses:',
      examples(seeds, true),
      block('Context', context),
      'Write ONE new request of this task about the context above, answerable from the context alone and not a copy',
      'of an example request. Answer as {"question": "<the request>"}.',
    ].join('\n\n'),
  );
}

/** Question filter: is this a good request for the task (and, when given, answerable from the context). 1 keeps it. */
export function questionRatingPrompt(task: string, question: string, context?: string): ChatMessage[] {
  return chat(
    [
      `Task: ${task.trim()}`,
      ...(context ? [block('Context', context)] : []),
      block('Question', question),
      'Judge the question. Score 1 when it is clear, self-contained, belongs to the task, can be answered by a text',
      `assistant${context ? ' from the context alone' : ''}, and is not harmful; score 0 otherwise.`,
      'Answer as {"explanation": "<one or two sentences>", "score": 0 or 1}.',
    ].join('\n\n'),
  );
}

/** The response to a request, in the manner of the examples' responses. */
export function skillAnswerPrompt(task: string, seeds: readonly SeedPair[], question: string, context?: string): ChatMessage[] {
  return chat(
    [
      `Task: ${task.trim()}`,
      'Examples of good responses:',
      examples(seeds, context !== undefined),
      ...(context ? [block('Context', context)] : []),
      block('Question', question),
      `Write the response to the question${context ? ', using only the context' : ''}, in the style, format and length of`,
      'the example responses. Answer as {"answer": "<the response>"}.',
    ].join('\n\n'),
  );
}

/** Pair filter: 1 poor, 2 acceptable, 3 excellent; the pipelines keep 2 and up. */
export function pairRatingPrompt(task: string, question: string, answer: string, context?: string): ChatMessage[] {
  return chat(
    [
      `Task: ${task.trim()}`,
      ...(context ? [block('Context', context)] : []),
      block('Question', question),
      block('Answer', answer),
      'Rate the answer. 3: correct, complete, helpful and in the format the question asks for. 2: correct and',
      'useful with small flaws. 1: wrong, off-topic, unhelpful, harmful, or ignores the requested format.',
      'Answer as {"explanation": "<one or two sentences>", "score": 1, 2 or 3}.',
    ].join('\n\n'),
  );
}

// ---- Knowledge --------------------------------------------------------------------------------------------------

/** A question-answer pair about a document chunk, following one seed example's context and pairs. */
export function knowledgePairPrompt(domain: string, outline: string, example: readonly SeedPair[], chunk: string): ChatMessage[] {
  return chat(
    [
      `Domain: ${domain.trim()}`,
      `The document covers: ${outline.trim()}`,
      'Examples of questions and answers about an excerpt of the document:',
      examples(example, true),
      block('Document', chunk),
      'Write ONE new question that a reader of this domain would ask and that the document above answers, and its',
      'answer. Use only facts stated in the document; do not copy an example question.',
      'Answer as {"question": "<the question>", "answer": "<the answer>"}.',
    ].join('\n\n'),
  );
}

/** Faithfulness: every claim of the answer is stated in (or follows from) the document. */
export function faithfulnessPrompt(chunk: string, answer: string): ChatMessage[] {
  return chat(
    [
      block('Document', chunk),
      block('Answer', answer),
      'Is every claim of the answer supported by the document? Claims the document does not state or contradicts',
      'make the answer unfaithful. Answer as {"explanation": "<one or two sentences>", "faithful": true or false}.',
    ].join('\n\n'),
  );
}

/** Relevance: 2 the answer addresses the question fully, 1 partly, 0 not. */
export function relevancePrompt(question: string, answer: string): ChatMessage[] {
  return chat(
    [
      block('Question', question),
      block('Answer', answer),
      'Does the answer address the question? Score 2 when it answers exactly what is asked and stays on topic, 1',
      'when it answers only part or adds unrelated material, 0 when it does not answer it.',
      'Answer as {"explanation": "<one or two sentences>", "score": 0, 1 or 2}.',
    ].join('\n\n'),
  );
}
