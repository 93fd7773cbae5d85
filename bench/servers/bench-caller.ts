/** The benchmark's caller: the demo `demo` user with the basic scopes (a realistic per-user tool set). */
export const BENCH_USER = 'demo';
export const BENCH_SCOPES: readonly string[] = ['mcp:tools', 'mcp:data'];
