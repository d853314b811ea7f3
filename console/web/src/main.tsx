import { StrictMode, useContext, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { AppContext, useLive, useRoute, useT } from "./app";
import { ChainPage, InstitutionsPage, ProposalsPage } from "./pages/governance";
import { AttentionPage, CreditPage, LedgerPage, TopologyPage, TxPage } from "./pages/business";
import { AuditorPage } from "./pages/auditor";
import { LANGUAGES, type Lang, type StringKey } from "./strings";
import { WalletBar } from "./ui";
import type { Meta } from "./wallet";
import "./styles.css";

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
          {live.connected ? t("live") : t("offline")} · {t("block")} <strong data-testid="live-head">{live.head?.number ?? "—"}</strong>
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
        {page}
      </main>
    </>
  );
}

function Root() {
  const [lang, setLangState] = useState<Lang>(() => (localStorage.getItem("ccgp-lang") as Lang | null) ?? (navigator.language.startsWith("zh") ? "zh" : "en"));
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
