export default function Loading() {
  return (
    <div className="loading" data-testid="loading" aria-busy="true">
      Loading…
    </div>
  );
}
