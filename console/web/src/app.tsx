/** Shared state of the page: language, live head, the route, data loading that follows live updates. */
import { createContext, useCallback, useContext, useEffect, useState } from "react";
import { STRINGS, type Lang, type StringKey } from "./strings";
import type { Meta } from "./wallet";

export interface LiveState {
  connected: boolean;
  head: { number: number; timestamp: number } | null;
  /** Bumped on every block and every index move: pages reload what they show. */
  version: number;
}

export interface AppState {
  lang: Lang;
  setLang(l: Lang): void;
  live: LiveState;
  meta: Meta | null;
}

export const AppContext = createContext<AppState>({
  lang: "en",
  setLang: () => undefined,
  live: { connected: false, head: null, version: 0 },
  meta: null,
});

export function useT(): (k: StringKey) => string {
  const { lang } = useContext(AppContext);
  return useCallback((k: StringKey) => STRINGS[lang][k], [lang]);
}

/** Subscribes to the server's events (`/api/live`). */
export function useLive(): LiveState {
  const [state, setState] = useState<LiveState>({ connected: false, head: null, version: 0 });
  useEffect(() => {
    const source = new EventSource("/api/live");
    source.onopen = () => setState((s) => ({ ...s, connected: true }));
    source.onerror = () => setState((s) => ({ ...s, connected: false }));
    source.addEventListener("block", (e) => {
      const head = JSON.parse((e as MessageEvent<string>).data) as { number: number; timestamp: number };
      setState((s) => ({ connected: true, head, version: s.version + 1 }));
    });
    source.addEventListener("index", () => setState((s) => ({ ...s, version: s.version + 1 })));
    return () => source.close();
  }, []);
  return state;
}

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  reload(): void;
}

/** GETs `/api<path>` now and again after each live update (keeping what it showed while it reloads). */
export function useApi<T>(path: string | null, follow = true): Loaded<T> {
  const { live } = useContext(AppContext);
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [nonce, setNonce] = useState(0);
  const tick = follow ? live.version : 0;
  useEffect(() => setData(null), [path]);
  useEffect(() => {
    if (path === null) return;
    let cancelled = false;
    fetch(`/api${path}`)
      .then(async (res) => {
        const body = (await res.json()) as T & { error?: { message: string } };
        if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
        if (!cancelled) (setData(body), setError(null));
      })
      .catch((e: Error) => !cancelled && setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [path, tick, nonce]);
  return { data, error, reload: () => setNonce((n) => n + 1) };
}

/** The hash route: `#/ledger?state=Confirmed` -> { page: "ledger", params }. */
export function useRoute(): { page: string; rest: string; params: URLSearchParams } {
  const read = () => {
    const hash = location.hash.replace(/^#\/?/, "");
    const [path, query] = hash.split("?");
    const [page, ...rest] = (path || "chain").split("/");
    return { page, rest: rest.join("/"), params: new URLSearchParams(query ?? "") };
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}
