"""Written text reads the same wherever it is shown: an agenda event's description is Markdown,
as a training's is, and its headings stay below the page's title."""

from datetime import UTC, datetime


def test_an_agenda_events_description_renders_markdown_safely(client, make_event):
    event = make_event(
        title="Nuit des étoiles",
        starts_at=datetime(2027, 8, 12, 20, tzinfo=UTC),
        description="## Au programme\n\nObservation **à l'œil nu**.\n\n<script>alert(1)</script>",
    )
    page = client.get(f"/agenda/{event.id}").get_data(as_text=True)
    assert "<h2>Au programme</h2>" in page and "<strong>à l" in page
    assert "<script>alert(1)</script>" not in page
