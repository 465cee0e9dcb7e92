// "Select all in this group" on the quarantine page; without scripts each submission is still selectable.
document.addEventListener("change", (event) => {
  const all = event.target;
  if (!(all instanceof HTMLInputElement) || !all.dataset.selectGroup) return;
  for (const box of document.querySelectorAll(`input.${CSS.escape(all.dataset.selectGroup)}`)) {
    box.checked = all.checked;
  }
});
