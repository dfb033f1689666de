/**
 * GPT-2 (124M) sgemm shapes for 1024 tokens (batch x sequence), forward and the
 * transposed forms of backward. bench/matmul_torch.py lists the same shapes.
 */
export interface MatmulShape {
  /** What the product is in a GPT-2 step. */
  label: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
}

export function gpt2Shapes(vocabChunk: number): MatmulShape[] {
  return [
    { label: "attn.c_proj fwd Y=X@W", M: 1024, N: 768, K: 768, transA: false, transB: false },
    { label: "mlp.c_fc fwd Y=X@W", M: 1024, N: 3072, K: 768, transA: false, transB: false },
    { label: "mlp.c_proj fwd Y=X@W", M: 1024, N: 768, K: 3072, transA: false, transB: false },
    { label: `lm_head fwd X@wte^T (${vocabChunk} of 50257)`, M: 1024, N: vocabChunk, K: 768, transA: false, transB: true },
    { label: "mlp.c_proj bwd dX=dY@W^T", M: 1024, N: 3072, K: 768, transA: false, transB: true },
    { label: "mlp.c_fc bwd dW=X^T@dY", M: 768, N: 3072, K: 1024, transA: true, transB: false },
  ];
}

/** "1024x768 @ 768x3072" with T marking a transposed operand. */
export function describeShape(s: MatmulShape): string {
  const a = s.transA ? `(${s.K}x${s.M})T` : `${s.M}x${s.K}`;
  const b = s.transB ? `(${s.N}x${s.K})T` : `${s.K}x${s.N}`;
  return `${a} @ ${b}`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function tableHeader(): string {
  return "| op | shape | backend | threads | median ms | GFLOP/s |\n|---|---|---|---|---|---|";
}

export function tableRow(s: MatmulShape, backend: string, threads: number, ms: number): string {
  const gflops = (2 * s.M * s.N * s.K) / (ms * 1e6);
  return `| ${s.label} | ${describeShape(s)} | ${backend} | ${threads} | ${ms.toFixed(2)} | ${gflops.toFixed(1)} |`;
}
