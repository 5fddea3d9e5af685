/**
 * The policy every benchmark key carries: IAM rules that allow the benchmark model, spend
 * limits and rate limits far above anything a run can reach. None of them ever refuses a
 * benchmark request, but each is checked on every request, so its cost is in every figure.
 */
export const BENCH_RULES = {
  allowModels: ['bench-*'],
  denyModels: ['forbidden-*'],
  allowProviders: ['openai-compatible'],
  maxInputPrice: 100,
  maxOutputPrice: 100,
};

export const BENCH_SPEND_LIMIT = { allTimeUsd: 1_000_000_000, recurring: { usd: 1_000_000_000, window: '30d' } };

export const BENCH_RATE_LIMITS = { rpm: 1_000_000_000, tpm: 1_000_000_000, maxParallel: 100_000 };
