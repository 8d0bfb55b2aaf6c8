// node-llama-cpp (llama.cpp on the CPU), the reference runtime the converted files must load in.
// Tests that need it skip with the reason when it cannot load on this platform.
type NodeLlama = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<NodeLlama['getLlama']>>;

export let nlc: NodeLlama | undefined;
export let unavailable = '';
try {
  nlc = await import('node-llama-cpp');
} catch (e) {
  unavailable = (e as Error).message;
  console.warn(`node-llama-cpp unavailable, skipping: ${unavailable}`);
}

let llama: Llama | undefined;

export async function runtime(): Promise<Llama> {
  llama ??= await nlc!.getLlama({ gpu: false, build: 'never', logLevel: nlc!.LlamaLogLevel.error });
  return llama;
}

export async function disposeRuntime(): Promise<void> {
  await llama?.dispose();
  llama = undefined;
}

/** Logits for the token after `text` (tokenized with the model's own vocabulary). */
export async function nextLogits(modelPath: string, text: string): Promise<{ tokens: number[]; logits: number[] }> {
  const model = await (await runtime()).loadModel({ modelPath });
  try {
    const context = await model.createContext({ contextSize: 64, threads: 2 });
    try {
      const tokens = model.tokenize(text) as number[];
      const input = tokens.map((t, i) => (i === tokens.length - 1 ? ([t, { generateNext: { logits: true } }] as const) : t));
      const out = await context.getSequence().controlledEvaluate(input as Parameters<ReturnType<typeof context.getSequence>['controlledEvaluate']>[0]);
      const logits = out[tokens.length - 1]?.next?.logits;
      if (!logits) throw new Error('no logits returned');
      return { tokens, logits: [...logits.values()] };
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

/** Greedy continuation of `prompt`. */
export async function greedy(modelPath: string, prompt: string, maxTokens = 24): Promise<string> {
  const model = await (await runtime()).loadModel({ modelPath });
  try {
    const context = await model.createContext({ contextSize: 128, threads: 2 });
    try {
      const completion = new nlc!.LlamaCompletion({ contextSequence: context.getSequence() });
      return await completion.generateCompletion(prompt, { maxTokens, temperature: 0 });
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

/** Token ids llama.cpp gives `text` with the vocabulary in a GGUF (vocab-only load). */
export async function tokenizeWith(modelPath: string, texts: string[]): Promise<number[][]> {
  const model = await (await runtime()).loadModel({ modelPath, vocabOnly: true });
  try {
    return texts.map((t) => [...model.tokenize(t, false)] as number[]);
  } finally {
    await model.dispose();
  }
}
