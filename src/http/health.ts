/** Liveness (the process answers) and readiness (its dependencies answer, and it is not draining). */
import { Router } from 'express';

export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void> | void;
}

export function healthRoutes(checks: readonly ReadinessCheck[], isDraining: () => boolean): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (isDraining()) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    const failed: string[] = [];
    for (const c of checks) {
      try {
        await c.check();
      } catch {
        failed.push(c.name);
      }
    }
    res.status(failed.length ? 503 : 200).json({ status: failed.length ? 'unavailable' : 'ready', failed });
  });
  return router;
}
