/** A form's submit button and, when the form can be abandoned, its Cancel button. */
export function FormButtons(props: { submitLabel: string; busy?: boolean; onCancel?: () => void }) {
  return (
    <div className="row">
      <button type="submit" disabled={props.busy}>
        {props.submitLabel}
      </button>
      {props.onCancel && (
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      )}
    </div>
  );
}
