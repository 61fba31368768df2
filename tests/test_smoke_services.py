from desk_app.services.actor import Actor
from desk_app.services.registry import Services


def test_demo_receptionist_finds_maddy_by_part_of_her_name(
    demo_services: Services, front_desk: Actor
) -> None:
    found = demo_services.patients.search(front_desk, "nguy mad")
    assert [p.display_name for p in found] == ["Maddy Ødegård-Nguyễn"]
