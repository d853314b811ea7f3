import { lazy, StrictMode, Suspense, useContext, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { AppContext, useLive, useRoute, useT } from "./app";
import { LANGUAGES, type Lang, type StringKey } from "./strings";
import { WalletBar } from "./ui";
import type { Meta } from "./wallet";
import "./styles.css";

// Each page is its own chunk: the first page a visitor opens loads only what it shows (the graph library and the
// wallet code come with the pages that use them).
const governance = () => import("./pages/governance");
const business = () => import("./pages/business");
const ChainPage = lazy(() => governance().then((m) => ({ default: m.ChainPage })));
const InstitutionsPage = lazy(() => governance().then((m) => ({ default: m.InstitutionsPage })));
const ProposalsPage = lazy(() => governance().then((m) => ({ default: m.ProposalsPage })));
const TopologyPage = lazy(() => import("./pages/topology").then((m) => ({ default: m.TopologyPage })));
const LedgerPage = lazy(() => business().then((m) => ({ default: m.LedgerPage })));
const TxPage = lazy(() => business().then((m) => ({ default: m.TxPage })));
const AttentionPage = lazy(() => business().then((m) => ({ default: m.AttentionPage })));
const CreditPage = lazy(() => business().then((m) => ({ default: m.CreditPage })));
const AuditorPage = lazy(() => import("./pages/auditor").then((m) => ({ default: m.AuditorPage })));

const PAGES: [string, StringKey][] = [
  ["chain", "navChain"],
  ["institutions", "navInstitutions"],
  ["proposals", "navProposals"],
  ["topology", "navTopology"],
  ["ledger", "navLedger"],
  ["attention", "navAttention"],
  ["credit", "navCredit"],
  ["auditor", "navAuditor"],
];

function Shell() {
  const t = useT();
  const route = useRoute();
  const { live, lang, setLang } = useContext(AppContext);
  const current = route.page === "tx" ? "ledger" : route.page;
  const page = (() => {
    switch (route.page) {
      case "institutions":
        return <InstitutionsPage />;
      case "proposals":
        return <ProposalsPage />;
      case "topology":
        return <TopologyPage />;
      case "ledger":
        return <LedgerPage params={route.params} />;
      case "tx":
        return <TxPage txId={route.rest} />;
      case "attention":
        return <AttentionPage />;
      case "credit":
        return <CreditPage />;
      case "auditor":
        return <AuditorPage />;
      default:
        return <ChainPage />;
    }
  })();
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        {t("skip")}
      </a>
      <header className="top">
        <h1>{t("title")}</h1>
        <p className="live" aria-live="polite">
          <span className={live.connected ? "dot on" : "dot"} aria-hidden="true" />
          {live.connected ? t("live") : t("offline")} · {t("block")}{" "}
          <strong data-testid="live-head">{live.head?.number ?? "—"}</strong>
        </p>
        <WalletBar />
        <label className="lang">
          {t("language")}{" "}
          <select value={lang} onChange={(e) => setLang(e.target.value as Lang)} data-testid="language">
            {Object.entries(LANGUAGES).map(([k, v]) => (
              <option key={k} value={k} lang={k === "zh" ? "zh-CN" : "en"}>
                {v}
              </option>
            ))}
          </select>
        </label>
      </header>
      <nav aria-label={t("nav")} className="nav">
        <ul>
          {PAGES.map(([p, key]) => (
            <li key={p}>
              <a href={`#/${p}`} aria-current={current === p ? "page" : undefined}>
                {t(key)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p aria-busy="true">{t("loading")}</p>}>{page}</Suspense>
      </main>
    </>
  );
}

function Root() {
  const [lang, setLangState] = useState<Lang>(
    () => (localStorage.getItem("ccgp-lang") as Lang | null) ?? (navigator.language.startsWith("zh") ? "zh" : "en"),
  );
  const [meta, setMeta] = useState<Meta | null>(null);
  const live = useLive();
  useEffect(() => {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }, [lang]);
  useEffect(() => {
    void fetch("/api/meta")
      .then((r) => r.json())
      .then((m: Meta) => setMeta(m));
  }, []);
  const setLang = (l: Lang) => (localStorage.setItem("ccgp-lang", l), setLangState(l));
  return (
    <AppContext.Provider value={{ lang, setLang, live, meta }}>
      <Shell />
    </AppContext.Provider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
