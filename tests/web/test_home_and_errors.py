def test_home_page_is_in_french_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Le matériel et les formations du réseau, en partage" in page
    assert "Matériel" in page


def test_english_is_available_from_the_language_switch(client):
    client.post("/language", data={"lang": "en", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Shared equipment and trainings of the network" in page


def test_an_unknown_page_answers_404_in_the_layout(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page introuvable" in page
    assert "La Malle" in page
    assert "Traceback" not in page


def test_a_wrong_method_answers_405_in_the_layout(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "Méthode non autorisée" in response.get_data(as_text=True)


def test_api_clients_get_json_errors(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json
    assert response.json["error"]["status"] == 404


def test_an_oversize_body_answers_413(client):
    response = client.post("/login", data={"email": "x" * (6 * 1024 * 1024), "password": "y"})
    assert response.status_code == 413
    assert "Envoi trop volumineux" in response.get_data(as_text=True)


def test_an_unexpected_error_shows_a_500_page_without_a_trace(make_app):
    app = make_app()

    @app.route("/boom-for-test")
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom-for-test")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Erreur interne" in page
    assert "kaboom" not in page
