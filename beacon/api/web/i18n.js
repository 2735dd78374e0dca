// The page's texts: one JSON file per language (web/i18n/<lang>.json), chosen by the server from Accept-Language
// (the <html lang> it serves) unless the visitor picked another in the switcher (kept in localStorage).
// Numbers and dates are formatted with the browser's Intl for the language shown.
"use strict";

export const LANGUAGES = ["en", "da", "sv", "nb", "nn", "bg", "fr"];
const CHOICE_KEY = "beacon.language";

const state = { lang: "en", texts: {}, fallback: {} };

async function fetchTexts(lang) {
  const response = await fetch(`/static/i18n/${lang}.json`);
  return response.ok ? response.json() : {};
}

export function currentLanguage() {
  return state.lang;
}

export function initialLanguage() {
  const chosen = localStorage.getItem(CHOICE_KEY);
  if (chosen && LANGUAGES.includes(chosen)) return chosen;
  const served = document.documentElement.lang;
  return LANGUAGES.includes(served) ? served : "en";
}

export async function setLanguage(lang, remember) {
  if (remember) localStorage.setItem(CHOICE_KEY, lang);
  const [texts, fallback] = await Promise.all([fetchTexts(lang), lang === "en" ? null : fetchTexts("en")]);
  state.lang = lang;
  state.texts = texts;
  state.fallback = fallback || texts;
  document.documentElement.lang = lang;
  translateDocument();
}

// t("answer.found", {count: 3}): a text with {name} placeholders filled; numbers formatted for the language.
export function t(key, values = {}) {
  const template = state.texts[key] ?? state.fallback[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => {
    const value = values[name];
    if (value === undefined || value === null) return "";
    return typeof value === "number" ? formatNumber(value) : String(value);
  });
}

export function formatNumber(value, options = {}) {
  return new Intl.NumberFormat(state.lang, options).format(value);
}

// Frequencies keep three significant digits, as read in the population table and the chart.
export function formatFrequency(value) {
  return formatNumber(value, { maximumSignificantDigits: 3 });
}

export function formatDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : new Intl.DateTimeFormat(state.lang, { dateStyle: "medium" }).format(date);
}

export function translateDocument(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  for (const element of root.querySelectorAll("[data-i18n-label]")) {
    element.setAttribute("aria-label", t(element.dataset.i18nLabel));
  }
}
