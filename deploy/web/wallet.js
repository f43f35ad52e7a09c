// Wallet discovery (EIP-6963, with the EIP-1193 window.ethereum fallback), connection and chain switching.
import { CHAINS } from "./constants.js";

/** Collects announced wallets for `ms` milliseconds; the legacy window.ethereum when none announce. */
export function discoverWallets(ms = 400) {
  const found = new Map();
  const onAnnounce = (ev) => {
    const d = ev.detail;
    if (!d || !d.info || !d.provider || typeof d.provider.request !== "function") return;
    const uuid = String(d.info.uuid || d.info.rdns || d.info.name);
    if (!found.has(uuid)) found.set(uuid, { uuid, name: String(d.info.name || "Wallet").slice(0, 40), icon: safeIcon(d.info.icon), provider: d.provider });
  };
  window.addEventListener("eip6963:announceProvider", onAnnounce);
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  return new Promise((resolve) =>
    setTimeout(() => {
      window.removeEventListener("eip6963:announceProvider", onAnnounce);
      const list = [...found.values()];
      if (!list.length && window.ethereum && typeof window.ethereum.request === "function") {
        list.push({ uuid: "injected", name: "Browser wallet", icon: null, provider: window.ethereum });
      }
      resolve(list);
    }, ms)
  );
}

// Only inline images: a remote icon would be a request to another origin.
const safeIcon = (icon) => (typeof icon === "string" && /^data:image\/(svg\+xml|png|webp|jpeg|gif)[;,]/.test(icon) ? icon : null);

export const chainName = (id) => `${CHAINS[id] || "chain"} (chain ${id})`;

export async function chainIdOf(provider) {
  return Number(BigInt(await provider.request({ method: "eth_chainId" })));
}

/**
 * Asks the wallet to switch to `chainId`; when it does not know the chain (4902) and a public RPC URL is
 * known, offers it with wallet_addEthereumChain. Throws the wallet's error otherwise.
 */
export async function switchChain(provider, chainId, rpcUrl, explorerUrl) {
  const hex = "0x" + chainId.toString(16);
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: hex }] });
  } catch (e) {
    const code = e && (e.code ?? (e.data && e.data.originalError && e.data.originalError.code));
    if (code !== 4902) throw e;
    if (!rpcUrl) {
      throw Object.assign(new Error(`Your wallet does not know ${chainName(chainId)}: add it in the wallet, then switch.`), { code: "unknown-chain" });
    }
    const params = { chainId: hex, chainName: CHAINS[chainId] || `Chain ${chainId}`, rpcUrls: [rpcUrl],
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 } };
    if (explorerUrl) params.blockExplorerUrls = [explorerUrl];
    await provider.request({ method: "wallet_addEthereumChain", params: [params] });
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: hex }] });
  }
}
