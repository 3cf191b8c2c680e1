/**
 * Loads data now and again every `intervalMs` with ONE timer for the whole screen (never one per
 * row), skipping rounds while the tab is hidden or a load is still running.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export function useRefresh<T>(
  load: () => Promise<T>,
  intervalMs: number,
): { data: T | null; error: string | null; reload: () => Promise<void>; loadedAt: number } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadedAt, setLoadedAt] = useState(0);
  const busy = useRef(false);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      setData(await loadRef.current());
      setError(null);
      setLoadedAt(Date.now());
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      busy.current = false;
    }
  }, []);

  useEffect(() => {
    void reload();
    const timer = setInterval(() => {
      if (!document.hidden) void reload();
    }, intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, reload]);

  return { data, error, reload, loadedAt };
}
