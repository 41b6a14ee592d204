"""Each adapter on small files in its real export format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from personal_memory.ingest.adapters import chatgpt, claude, git, mastodon, notes, photos, twitter
from personal_memory.pms.schema import MemoryType, TruthCategory
from tests.ingest.exports import (
    chatgpt_conversation,
    claude_conversation,
    commit,
    git_repo,
    mastodon_outbox,
    photo,
    twitter_archive,
    write_json,
)


def test_chatgpt_keeps_the_users_turns_on_the_current_branch(tmp_path: Path) -> None:
    export = write_json(
        tmp_path / "export" / "conversations.json",
        [
            chatgpt_conversation(
                1,
                [("user", "I live in Lyon."), ("assistant", "Nice city!"), ("user", "My cat is Tom.")],
                edited_away="I live in Paris.",
            ),
            chatgpt_conversation(2, [("user", "I prefer tea.")]),
        ],
    )
    points = list(chatgpt.iter_datapoints(export.parent))
    assert [p.text for p in points] == ["I live in Lyon.", "My cat is Tom.", "I prefer tea."]
    first = points[0]
    assert first.source_kind == "chatgpt" and first.author == "user"
    assert first.reference.startswith("chatgpt:6612c0de-") and "/" in first.reference
    assert first.timestamp == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
    assert first.metadata["conversation"] == "Conversation 1"


def test_chatgpt_reads_the_custom_instructions_profile(tmp_path: Path) -> None:
    conversation = chatgpt_conversation(1, [("user", "Hello there friend.")])
    mapping = conversation["mapping"]
    assert isinstance(mapping, dict)
    mapping["sys"]["message"]["content"] = {  # custom instructions ride on the hidden system node's sibling
        "content_type": "user_editable_context",
        "user_profile": "I am a nurse in Lyon.",
        "user_instructions": "",
    }
    mapping["sys"]["message"]["author"]["role"] = "user"
    export = write_json(tmp_path / "conversations.json", [conversation])
    assert [p.text for p in chatgpt.iter_datapoints(export)] == ["I am a nurse in Lyon.", "Hello there friend."]


def test_claude_keeps_the_human_turns(tmp_path: Path) -> None:
    export = write_json(
        tmp_path / "conversations.json",
        [
            claude_conversation(1, [("human", "I teach maths."), ("assistant", "Great."), ("human", "My son is 4.")]),
        ],
    )
    points = list(claude.iter_datapoints(export))
    assert [p.text for p in points] == ["I teach maths.", "My son is 4."]
    assert points[0].reference.startswith("claude:4a1b2c3d-")
    assert points[0].timestamp == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)


def test_twitter_reads_tweets_js_unescaped_and_skips_retweets(tmp_path: Path) -> None:
    archive = twitter_archive(tmp_path / "archive", ["I love #rust & @alice", "RT @bob: something"])
    points = list(twitter.iter_datapoints(archive))
    assert len(points) == 1
    assert points[0].text == "I love #rust & @alice"
    assert points[0].tags == ["rust"] and points[0].entities == ["@alice"]
    assert points[0].reference == "twitter:1000"
    assert points[0].timestamp == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)


def test_mastodon_reads_notes_as_text_and_skips_boosts(tmp_path: Path) -> None:
    outbox = mastodon_outbox(
        tmp_path / "outbox.json",
        [
            "<p>I moved to Ghent &amp; love it.</p><p>I ride a bike to work.<br>Every day.</p>",
        ],
    )
    points = list(mastodon.iter_datapoints(outbox.parent))
    assert len(points) == 1
    assert points[0].text == "I moved to Ghent & love it.\nI ride a bike to work.\nEvery day."
    assert points[0].reference == "https://mastodon.example/users/me/statuses/100"
    assert points[0].tags == ["rust"]


def test_notes_read_front_matter_tags_links_and_chunks(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / ".obsidian" / "app.md").write_text("I am hidden config.")
    (vault / "Daily").mkdir()
    (vault / "Daily" / "2024-01-02.md").write_text(
        "---\ntitle: New year\ntags: [journal, goals]\ndate: 2024-01-02\n---\n"
        "# Plans\n\nI want to run a marathon with [[Sam|my brother]]. #fitness\n\n"
        "## Code\n```\nI am code, not prose.\n```\nI use [[Obsidian]] daily.\n"
    )
    (vault / "plain.txt").write_text("Plain text note.\n")
    points = list(notes.iter_datapoints(vault))
    assert [(Path(p.reference).name, p.text) for p in points] == [
        ("2024-01-02.md:8", "I want to run a marathon with my brother. #fitness"),
        ("2024-01-02.md:14", "I use Obsidian daily."),
        ("plain.txt:1", "Plain text note."),
    ]
    assert points[0].tags == ["journal", "goals", "fitness"] and points[0].entities == ["Sam"]
    assert points[0].metadata["title"] == "New year" and points[0].metadata["heading"] == "Plans"
    assert points[0].timestamp == datetime(2024, 1, 2, tzinfo=UTC)
    assert points[1].metadata["heading"] == "Code"


def test_notes_split_long_text_into_bounded_chunks(tmp_path: Path) -> None:
    note = tmp_path / "long.md"
    note.write_text("\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(40)))
    points = list(notes.iter_datapoints(note))
    assert len(points) > 5
    assert all(len(p.text) <= notes.MAX_CHUNK_CHARS for p in points)
    assert "".join(p.text for p in points).count("Paragraph") == 40


def test_git_turns_the_users_commits_into_skills_events_and_habits(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "webshop")
    commit(
        repo,
        {"app/main.py": "x = 1\n", "tests/test_main.py": "", "Dockerfile": "FROM python\n"},
        "feat: checkout page",
        date="2024-02-03T10:00:00+00:00",
    )
    commit(repo, {"lib.rs": "fn main() {}\n"}, "Someone else's work", email="other@example.org")
    points = list(git.iter_datapoints(repo))
    assert len(points) == 1
    point = points[0]
    assert point.text == "feat: checkout page" and point.author == "Me <me@example.org>"
    assert point.reference.startswith("git:webshop@") and len(point.metadata["commit"]) == 40  # type: ignore[arg-type]
    found = {(s.text, s.memory_type) for s in point.statements}
    assert found == {
        ("I worked on the webshop repository in February 2024.", MemoryType.EVENT),
        ("I write Python code.", MemoryType.SKILL),
        ("I use Docker in my projects.", MemoryType.SKILL),
        ("I write commit messages in the Conventional Commits style.", MemoryType.PREFERENCE),
        ("I write automated tests for my code.", MemoryType.PREFERENCE),
    }


def test_git_reads_an_empty_repository_as_nothing(tmp_path: Path) -> None:
    assert list(git.iter_datapoints(git_repo(tmp_path / "empty"))) == []


def test_photos_read_exif_date_camera_and_place_from_jpeg_and_png(tmp_path: Path) -> None:
    photo(tmp_path / "a" / "IMG_0001.JPG")
    photo(tmp_path / "a" / "paris.png", taken="2024:07:14 18:00:00", camera=None, gps=(48.8583, 2.2945))
    photo(tmp_path / "a" / "south.jpg", taken=None, camera=None, gps=(-33.8568, -151.2153))
    photo(tmp_path / "a" / "blank.jpg", taken=None, camera=None, gps=None)
    points = {Path(p.reference).name: p for p in photos.iter_datapoints(tmp_path / "a")}
    assert set(points) == {"IMG_0001.JPG", "paris.png", "south.jpg"}
    jpeg = points["IMG_0001.JPG"]
    assert jpeg.timestamp == datetime(2024, 7, 14, 14, 3, tzinfo=UTC)
    assert jpeg.metadata["camera"] == "Canon EOS R6"
    assert abs(jpeg.metadata["latitude"] - 48.8583) < 1e-3  # type: ignore[operator]
    assert [(s.text, s.memory_type, s.truth_category) for s in jpeg.statements] == [
        ("On 2024-07-14 I took photos at 48.86, 2.29.", MemoryType.EVENT, TruthCategory.ABSOLUTE),
        ("I take photos with a Canon EOS R6.", MemoryType.FACT, TruthCategory.INFERRED),
    ]
    assert [s.text for s in points["paris.png"].statements] == ["On 2024-07-14 I took photos at 48.86, 2.29."]
    assert [s.text for s in points["south.jpg"].statements] == ["I took photos at -33.86, -151.22."]


def test_photo_time_offsets_are_honoured(tmp_path: Path) -> None:
    from PIL import Image

    path = photo(tmp_path / "x.jpg")
    with Image.open(path) as image:
        exif = image.getexif()
        exif.get_ifd(0x8769)[0x9011] = "+02:00"
        image.save(tmp_path / "y.jpg", exif=exif)
    (point,) = photos.iter_datapoints(tmp_path / "y.jpg")
    assert point.timestamp is not None and point.timestamp.utcoffset() == timedelta(hours=2)
