// qa-pipeline: the little the pages need from the browser. No build step, no framework.
document.addEventListener("DOMContentLoaded", () => {
  const player = document.getElementById("player");
  if (player) {
    // Each turn of a call plays the recording from where it starts.
    document.querySelectorAll("button.seek").forEach((button) => {
      button.addEventListener("click", () => {
        player.currentTime = parseFloat(button.dataset.start || "0");
        player.play().catch(() => {});  // a browser may refuse to autoplay: the position still moves
        document.querySelectorAll(".turn.playing").forEach((t) => t.classList.remove("playing"));
        button.closest(".turn").classList.add("playing");
      });
    });
  }
});
